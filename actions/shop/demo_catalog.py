"""The catalogue of Northwind Outfitters, the fictional demo shop (hand-written facts).

Prices, ids and stock are drawn by :mod:`actions.shop.generate_demo`; what a product is, what it
is made of and which options it comes in is written here, once, so every product description
the bot quotes is one we wrote and can vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

SHOP_NAME = "Northwind Outfitters"

SHOE_SIZES = ("7", "8", "9", "10", "11", "12")
APPAREL_SIZES = ("XS", "S", "M", "L", "XL")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One product as written by us; ``options`` lists each option's possible values."""

    name: str
    category: str
    description: str
    base_price: float
    options: tuple[tuple[str, tuple[str, ...]], ...]


def _entry(
    name: str, category: str, description: str, price: float, **options: tuple[str, ...]
) -> CatalogEntry:
    # Keyword order is the option order the shop shows (and tau-bench records keep).
    return CatalogEntry(name, category, description, price, tuple(options.items()))


def demo_catalog() -> tuple[CatalogEntry, ...]:
    """Every product of the demo shop, in catalogue order."""
    return (
        # Footwear
        _entry(
            "Trail Runner Shoe",
            "Footwear",
            "A lightweight trail running shoe with a grippy lugged outsole and a breathable "
            "mesh upper. It has a 6 mm heel-to-toe drop.",
            129.0,
            size=SHOE_SIZES,
            color=("blue", "black", "orange"),
        ),
        _entry(
            "Waterproof Hiking Boot",
            "Footwear",
            "A mid-height leather hiking boot with a waterproof, breathable membrane and a "
            "cushioned midsole for long days on rough ground.",
            189.0,
            size=SHOE_SIZES,
            color=("brown", "black"),
        ),
        _entry(
            "Everyday Canvas Sneaker",
            "Footwear",
            "A low-top sneaker in organic cotton canvas with a natural rubber sole.",
            69.0,
            size=SHOE_SIZES,
            color=("white", "navy", "olive"),
        ),
        _entry(
            "Recovery Slide Sandal",
            "Footwear",
            "A cushioned foam slide for after a run or a hike. It is fully washable.",
            39.0,
            size=SHOE_SIZES,
            color=("black", "sand"),
        ),
        _entry(
            "Wool Hiking Sock",
            "Footwear",
            "A crew-length hiking sock knit from merino wool blend that stays warm when damp.",
            22.0,
            size=("S", "M", "L"),
            cushion=("light", "medium", "heavy"),
        ),
        # Tops
        _entry(
            "Merino Base Layer",
            "Tops",
            "A long-sleeve base layer top in 100% merino wool that regulates temperature and "
            "resists odour.",
            89.0,
            size=APPAREL_SIZES,
            color=("black", "charcoal", "forest green"),
            weight=("lightweight", "midweight"),
        ),
        _entry(
            "Organic Cotton Tee",
            "Tops",
            "A classic crew-neck T-shirt in soft organic cotton jersey.",
            32.0,
            size=APPAREL_SIZES,
            color=("white", "heather grey", "navy", "rust"),
        ),
        _entry(
            "Quarter-Zip Fleece",
            "Tops",
            "A midweight fleece pullover with a quarter-length zip, made from recycled polyester.",
            79.0,
            size=APPAREL_SIZES,
            color=("navy", "sage", "black"),
        ),
        _entry(
            "Sun Hoodie",
            "Tops",
            "A lightweight hooded top with UPF 50 sun protection and thumb loops.",
            59.0,
            size=APPAREL_SIZES,
            color=("sky blue", "white", "coral"),
        ),
        _entry(
            "Flannel Overshirt",
            "Tops",
            "A brushed cotton flannel shirt cut roomy enough to layer over a fleece.",
            74.0,
            size=APPAREL_SIZES,
            color=("red plaid", "green plaid", "grey plaid"),
        ),
        _entry(
            "Performance Polo",
            "Tops",
            "A quick-drying polo shirt in a stretch knit that wicks sweat.",
            49.0,
            size=APPAREL_SIZES,
            color=("white", "navy", "black"),
        ),
        # Outerwear
        _entry(
            "Rain Shell Jacket",
            "Outerwear",
            "A packable 2.5-layer waterproof and windproof jacket with taped seams and an "
            "adjustable hood.",
            149.0,
            size=APPAREL_SIZES,
            color=("red", "navy", "yellow"),
        ),
        _entry(
            "Down Puffer Jacket",
            "Outerwear",
            "A warm jacket filled with 650-fill responsibly sourced down that packs into its "
            "own pocket.",
            229.0,
            size=APPAREL_SIZES,
            color=("black", "olive", "burgundy"),
        ),
        _entry(
            "Softshell Jacket",
            "Outerwear",
            "A stretchy, water-resistant softshell jacket for windy hikes and cool mornings.",
            139.0,
            size=APPAREL_SIZES,
            color=("grey", "black"),
        ),
        _entry(
            "Insulated Vest",
            "Outerwear",
            "A vest with synthetic insulation that keeps warmth when wet.",
            99.0,
            size=APPAREL_SIZES,
            color=("black", "navy", "orange"),
        ),
        _entry(
            "Windbreaker Anorak",
            "Outerwear",
            "A half-zip pullover windbreaker with a kangaroo pocket. It is water-repellent, "
            "not waterproof.",
            85.0,
            size=APPAREL_SIZES,
            color=("teal", "mustard", "black"),
        ),
        # Bottoms
        _entry(
            "Convertible Hiking Pant",
            "Bottoms",
            "A hiking pant whose legs zip off into shorts, in a quick-drying nylon with UPF 40.",
            79.0,
            waist=("28", "30", "32", "34", "36", "38"),
            inseam=("30", "32", "34"),
            color=("khaki", "grey"),
        ),
        _entry(
            "Stretch Trail Short",
            "Bottoms",
            "A 7-inch trail short with a stretch waistband and a zip pocket.",
            54.0,
            size=APPAREL_SIZES,
            color=("black", "slate", "moss"),
        ),
        _entry(
            "Fleece Jogger",
            "Bottoms",
            "A relaxed jogger in brushed fleece with cuffed ankles.",
            64.0,
            size=APPAREL_SIZES,
            color=("heather grey", "black", "navy"),
        ),
        _entry(
            "Merino Base Layer Bottom",
            "Bottoms",
            "Full-length merino wool leggings to wear under hiking or ski pants.",
            79.0,
            size=APPAREL_SIZES,
            color=("black", "charcoal"),
        ),
        # Accessories
        _entry(
            "Insulated Water Bottle",
            "Accessories",
            "A double-wall vacuum-insulated stainless steel bottle that keeps drinks cold for "
            "24 hours or hot for 12.",
            34.0,
            capacity=("500ml", "750ml", "1L"),
            color=("silver", "black", "teal", "red"),
        ),
        _entry(
            "Merino Beanie",
            "Accessories",
            "A rib-knit beanie in merino wool.",
            29.0,
            color=("black", "grey", "mustard", "forest green"),
        ),
        _entry(
            "Wide Brim Sun Hat",
            "Accessories",
            "A packable sun hat with a 3-inch brim, UPF 50 and a chin strap.",
            39.0,
            size=("S/M", "L/XL"),
            color=("khaki", "olive"),
        ),
        _entry(
            "Touchscreen Glove",
            "Accessories",
            "A lightweight liner glove whose fingertips work on phone screens.",
            27.0,
            size=("S", "M", "L", "XL"),
            color=("black", "grey"),
        ),
        _entry(
            "Polarized Sunglasses",
            "Accessories",
            "Polarized sunglasses with UV400 lenses and a lightweight frame.",
            89.0,
            frame=("black", "tortoise", "clear"),
            lens=("grey", "brown", "blue mirror"),
        ),
        _entry(
            "Neck Gaiter",
            "Accessories",
            "A stretchy tube of recycled fabric to wear as a neck warmer, face cover or headband.",
            19.0,
            color=("black", "blue camo", "sunset print"),
        ),
        _entry(
            "Trekking Pole Pair",
            "Accessories",
            "A pair of adjustable trekking poles with cork grips and flick locks.",
            119.0,
            material=("aluminum", "carbon"),
        ),
        # Packs & bags
        _entry(
            "Trail Daypack 24L",
            "Packs & Bags",
            "A 24-litre daypack with a ventilated back panel, hip belt and hydration sleeve.",
            95.0,
            color=("black", "navy", "rust"),
        ),
        _entry(
            "Hydration Pack 12L",
            "Packs & Bags",
            "A 12-litre running and biking pack that comes with a 2-litre water reservoir.",
            110.0,
            color=("black", "lime"),
        ),
        _entry(
            "Travel Duffel 40L",
            "Packs & Bags",
            "A water-resistant 40-litre duffel with removable shoulder straps that carry it "
            "like a backpack.",
            129.0,
            color=("black", "olive", "red"),
        ),
        _entry(
            "Packable Tote",
            "Packs & Bags",
            "A tote bag that folds into its own pocket, for groceries or the beach.",
            25.0,
            color=("black", "teal", "yellow"),
        ),
        _entry(
            "Hip Pack",
            "Packs & Bags",
            "A 2-litre hip pack with an adjustable strap and a zip pocket for keys.",
            39.0,
            color=("black", "sand", "blue"),
        ),
        # Camp & hike
        _entry(
            "Ultralight Tent 2P",
            "Camp & Hike",
            "A two-person, three-season freestanding tent that weighs 1.4 kg packed.",
            349.0,
            color=("green", "orange"),
        ),
        _entry(
            "Down Sleeping Bag",
            "Camp & Hike",
            "A mummy sleeping bag filled with 800-fill down.",
            299.0,
            rating=("20F", "35F"),
            length=("regular", "long"),
        ),
        _entry(
            "Self-Inflating Sleeping Pad",
            "Camp & Hike",
            "A foam-core sleeping pad that inflates itself when you open the valve.",
            89.0,
            length=("regular", "long"),
        ),
        _entry(
            "Compact Camp Stove",
            "Camp & Hike",
            "A canister stove that folds to pocket size and boils a litre of water in about "
            "four minutes. The fuel canister is sold separately.",
            49.0,
        ),
        _entry(
            "Rechargeable Headlamp",
            "Camp & Hike",
            "A 400-lumen headlamp with a red-light mode that charges over USB-C.",
            45.0,
            color=("black", "orange"),
        ),
        _entry(
            "Enamel Camp Mug",
            "Camp & Hike",
            "A steel camp mug with an enamel coating.",
            18.0,
            capacity=("350ml", "500ml"),
            color=("white", "blue"),
        ),
        # Trail consumables
        _entry(
            "Trail Energy Bar 12-Pack",
            "Trail Food & Care",
            "Twelve oat-and-nut energy bars with no artificial sweeteners.",
            24.0,
            flavor=("peanut butter", "dark chocolate", "blueberry almond"),
        ),
        _entry(
            "Electrolyte Drink Mix",
            "Trail Food & Care",
            "A powdered electrolyte mix with sodium and potassium. Each pack holds 20 servings.",
            19.0,
            flavor=("lemon", "berry", "unflavored"),
        ),
        _entry(
            "Water Filter Cartridge",
            "Trail Food & Care",
            "A replacement cartridge for our squeeze water filter. Each cartridge filters up to "
            "1,000 litres.",
            29.0,
            pack=("single", "2-pack"),
        ),
        _entry(
            "Mineral Sunscreen Stick",
            "Trail Food & Care",
            "A reef-friendly SPF 50 mineral sunscreen stick that fits a hip-belt pocket.",
            14.0,
            size=("15g", "30g"),
        ),
    )
