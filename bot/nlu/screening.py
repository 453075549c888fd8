"""Request screening: the shopper's message is looked at before anything is generated.

:func:`screen_request` names attacks (prompt injection, prompt leaks, questions about other
customers, demands for compensation, abuse), after undoing obfuscations (homoglyphs,
zero-width characters, base64, rot13, leetspeak, spaced-out letters). It aims for precision:
an ordinary shop question must never be refused, and an attack it misses still meets the
answer guard (:mod:`bot.generation.guard`).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "SCREENING_LABELS",
    "RequestCategory",
    "RequestVerdict",
    "learned_verdict",
    "screen_request",
]


RequestCategory = Literal["injection", "prompt_leak", "other_customer", "unearned_promise", "abuse"]
# The screening head's labels: a category, or ``none`` for a message to answer.
SCREENING_LABELS: tuple[str, ...] = ("none", *get_args(RequestCategory))


@dataclass(frozen=True, slots=True)
class RequestVerdict:
    """Why a shopper's message should not be answered by the model.

    Attributes:
        category: the kind of attack or misuse.
        reason: a short explanation for logs and for the agent who takes over.
    """

    category: RequestCategory
    reason: str


_Rule = tuple[RequestCategory, str, re.Pattern[str]]


def _rule(category: RequestCategory, reason: str, pattern: str, flags: int = re.I) -> _Rule:
    return category, reason, re.compile(pattern, flags)


_QUAL = r"(?:previous|prior|above|earlier|preceding|initial|original|system|safety|old|internal)"
_RULE_NOUN = (
    r"(?:instructions?|rules|prompts?|guidelines|directions|directives|commands|constraints|"
    r"restrictions|programming|guardrails|context)"
)
_VERB = (
    r"(?:show|reveal|repeat|print|display|output|tell|share|list|dump|copy|paste|recite|spell\s+out"
    r"|translate|summari[sz]e|leak|expose|write\s+out|type\s+out|echo"
    r"|what(?:'s|\s+is|\s+are|\s+were|\s+was))"
)
_SECRET = r"(?:system|initial|original|hidden|secret|internal|full|exact|first|complete|developer)"
# Tried in this order, so a message that is both an injection and abusive counts as injection.
# fmt: off
_RULES: tuple[_Rule, ...] = (
    _rule("injection", "asks to ignore its instructions",
          rf"\b(?:ignore|disregard|forget|override|bypass|discard)\s+(?:all\s+|any\s+|every\s+)?"
          rf"(?:of\s+)?(?:(?:the|your|these|those)\s+)?(?:{_QUAL}\s+)+{_RULE_NOUN}\b"
          r"|\b(?:ignore|disregard|forget|override|bypass|discard)\s+(?:all\s+(?:of\s+)?)?(?:your|all)"
          r"\s+(?:instructions|rules|guidelines|programming|directives|restrictions|constraints|"
          r"guardrails|training|prompt)\b|\b(?:disregard|override|bypass)\s+the\s+rules\b"
          r"|(?:^|[.!?]\s*|\b(?:please|just|now)\s+)(?:ignore|forget)\s+(?:all\s+)?(?:the|your)\s+"
          r"rules\b|\b(?:ignore|disregard|forget)\s+(?:everything|anything|all|whatever)\s+(?:that\s+)?"
          r"you(?:'ve|\s+have|\s+were|'re|\s+are)?\s+(?:been\s+)?(?:told|taught|given|instructed|"
          r"programmed|trained)\b"),
    _rule("injection", "assigns it a new role",
          r"\byou(?:'re|\s+are)\s+now\s+(?:(?-i:DAN)|an?\s+(?:\w+\s+)?(?:ai|assistant|bot|model|"
          r"chatbot|character|persona|hacker|pirate)|in\s+\w+\s+mode|free|unrestricted|jailbroken|"
          r"unfiltered|called|named|my\s+(?:assistant|slave|servant|grandma|grandmother))\b"
          r"|\byou(?:'re|\s+are)\s+no\s+longer\s+(?:an?\s+)?(?:bound|restricted|limited|assistant|ai|"
          r"bot|required|customer\s+service)\b|\bfrom\s+now\s+on,?\s+(?:you(?:'re|\s+are|\s+must|"
          r"\s+shall|\s+have\s+no|\s+no\s+longer)|you\s+will\s+(?:act|respond|answer|reply|ignore|"
          r"obey|follow|pretend|speak|only))\b|\bfrom\s+now\s+on,?\s+you\s+(?:approve|grant|give|"
          r"accept|agree|say|obey|always|never|only|do\s+(?:whatever|what|everything|anything))\b"
          r"|\b(?:du\s+bist\s+(?:jetzt|nun|ab\s+sofort)|tu\s+es\s+maintenant|ahora\s+eres)\b"),
    _rule("injection", "role-play jailbreak",
          r"(?-i:\bDAN\b)|\bdo\s+anything\s+now\b|\bjailbr(?:eak|oken)|\bsudo\b"
          r"|\b(?:developer|dev|god|admin|debug|maintenance|unrestricted|unfiltered|evil)\s+mode\b"
          r"|\byou(?:'ve|\s+have)\s+been\s+(?:freed|liberated|unlocked|jailbroken)\b"),
    _rule("injection", "asks it to act as something else",
          r"\b(?:you|u)\s+(?:(?:are|will|must|should|shall|now|to|can|could|would|need)\s+){0,2}"
          r"(?:act|behave|roleplay|role-play|pose)\s+(?:as|like)\b"
          r"|(?:^|[.!?]\s*|\b(?:please|now|just)\s+)(?:act|behave)\s+as\s+(?:if\s+you|an?\b|my\b|"
          r"the\b)|\blet'?s\s+role[\s-]?play\b|\brole[\s-]?play\s+(?:as|with\s+me)\b"
          r"|\bpretend\s+(?:that\s+)?(?:you(?:'re|\s+are|\s+were|\s+have)|to\s+be)\b"
          r"|\bimagine\s+(?:that\s+)?you(?:'re|\s+are)\s+(?:an?\s+)?(?:ai|bot|model|unrestricted|"
          r"evil|hacker|not|without)\b"),
    _rule("injection", "injects new instructions",
          r"\b(?:new|updated|revised|real|actual|secret|hidden)\s+(?:system\s+)?(?:instructions|"
          r"rules|directives|prompt|task|persona)\s*[:=]|\byour\s+new\s+(?:instructions|rules|task|"
          r"role|persona|purpose|goal)\b"),
    _rule("injection", "spoofs a chat role",
          r"(?:^|[\n.!?]\s*)\s*(?:\[|<|#+\s*|\*\*)?\s*(?:system|assistant|developer|admin|operator)"
          r"\s*(?:\]|>|\*\*)?\s*:|<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)"
          r"\|?>|\[/?INST\]|<</?SYS>>"),
    _rule("injection", "asks it to drop its restrictions",
          r"\b(?:respond|answer|reply|speak|talk|act|operate|behave)\b[^.!?]{0,30}\b(?:without|"
          r"with\s+no|free\s+of)\s+(?:any\s+)?(?:restrictions|filters|limitations|censorship|"
          r"guardrails|rules)\b|\boverride\s+(?:your|the)\s+(?:safety|system|programming|"
          r"protocols?)\b"),
    _rule("injection", "hides instructions in an encoding",
          r"\b(?:decode|decrypt|base64|rot13|reverse)\b[^.!?]{0,60}\b(?:and|then)\s+(?:follow|"
          r"execute|obey|run|do|carry\s+out)\b"),
    _rule("injection", "asks to ignore its instructions (not in English)",
          r"\b(?:ignoriere|ignorier|vergiss|missachte)\b[^.!?]{0,40}\b(?:anweisungen|regeln|"
          r"instruktionen|vorgaben)\b|\b(?:ignore[zr]?|oublie[zr]?)\s+(?:toutes\s+)?(?:les|tes|vos|"
          r"ces)\s+(?:\w+\s+)?(?:instructions|règles|consignes|directives)\b"
          r"|\b(?:ignora|ignore|olvida)\s+(?:todas\s+)?(?:las|tus|sus)\s+(?:\w+\s+)?(?:instrucciones"
          r"|reglas)\b|\b(?:ignora|dimentica)\s+(?:tutte\s+)?le\s+(?:\w+\s+)?(?:istruzioni|regole)\b"
          r"|\b(?:ignore|esqueça)\s+(?:todas\s+)?(?:as|suas)\s+(?:\w+\s+)?(?:instruções|regras)\b"
          r"|\b(?:negeer|vergeet)\b[^.!?]{0,30}\b(?:instructies|regels)\b"
          r"|(?:игнорируй|забудь)[^.!?]{0,30}(?:инструкци|правил)|(?:忽略|无视)(?:之前|以上|上面|所有|先前)"),
    _rule("prompt_leak", "asks for its system prompt",
          rf"\b(?:{_SECRET}|pre)[\s-]?prompt\b|\bsystemprompt\b|\bprompt\s+(?:du\s+|de\s+)?syst[eè]me"
          r"\b|\bprompt\s+(?:del?|di|do)\s+sistema\b|системн\w*\s+(?:промпт|инструкци)|系统提示|提示词"),
    _rule("prompt_leak", "asks for its instructions",
          rf"\b{_VERB}\b[^.!?]{{0,30}}\b(?:your|ur)\s+(?:{_SECRET}\s+)*(?:prompt|instructions|"
          r"directives|configuration|programming)\s*(?:[.?!,;:\"')]|$|\s+(?:and|verbatim|word|"
          r"exactly|please|again|in|into|back|so|that|you|above|here|now|text|to\s+me)\b)"
          rf"|\b{_VERB}\b[^.!?]{{0,30}}\b(?:the|your|all)\s+(?:{_SECRET}\s+)+(?:prompt|instructions"
          r"|rules|guidelines|directives|messages?|text)\b"),
    _rule("prompt_leak", "asks for the hidden text above",
          rf"\b{_VERB}\b[^.!?]{{0,30}}\b(?:text|words|content|everything|instructions|prompt|lines)"
          r"\s+(?:above|before\s+this|prior\s+to\s+this)\b|\bstarting\s+with\s+[\"'“]?you\s+are\b"),
    _rule("prompt_leak", "asks how it was instructed",
          r"\b(?:what|which)\s+(?:instructions|rules|guidelines|prompt|directives)\s+(?:were\s+you|"
          r"have\s+you\s+been|did\s+you|are\s+you)\s+(?:given|told|programmed|following|using|get)\b"
          r"|\b(?:how|what)\s+(?:were|have)\s+you\s+(?:been\s+)?(?:instructed|programmed|configured"
          r"|prompted|told\s+to\s+(?:do|say|answer|respond|never|always|not))\b"),
    _rule("prompt_leak", "asks for its instructions (not in English)",
          r"\b(?:zeig|zeige|wiederhole|nenne)\w*\b[^.!?]{0,30}\b(?:deine|deinen)\s+(?:\w+\s+)?"
          r"(?:anweisungen|instruktionen|prompt)\b|\b(?:montre|affiche|révèle|répète)[\w-]*\b"
          r"[^.!?]{0,30}\b(?:tes|vos)\s+(?:instructions|consignes)\b|\b(?:mu[eé]stra|revela|repite)"
          r"\w*\b[^.!?]{0,30}\b(?:tus|sus)\s+instrucciones\b"),
    _rule("other_customer", "asks for the customer database",
          r"\b(?:list|show|give|send|export|dump|download|leak|print|display)\b[^.!?]{0,25}\b"
          r"(?:(?:customer|user|client|shopper)s?'?\s+(?:list|database|db|records|table|data|"
          r"e-?mails|addresses|phone\s+numbers|names|details|info(?:rmation)?)|(?:all|every)\s+"
          r"(?:(?:the|your)\s+)?(?:customers|users|shoppers|buyers|clients|accounts))\b"),
    # Names are recognised by their capital letter, so this rule is case-sensitive.
    _rule("other_customer", "asks what another named person ordered",
          r"\b[Ww]hat\s+(?:did|has|have|does)\s+(?!I\b|We\b|You\b|My\b)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
          r"\s+(?:order|ordered|buy|bought|purchase|purchased|return|returned|get)\b"
          r"|\b(?!I\b)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?'s\s+(?:home\s+)?(?:address|e-?mail|phone(?:\s+"
          r"number)?|password|account|order\s+history|purchases|credit\s+card|card\s+number|orders)\b",
          0),
    _rule("other_customer", "asks for another customer's data",
          r"\b(?:orders?|purchases|address|e-?mail|phone(?:\s+number)?|details|account)\s+(?:placed"
          r"\s+by|made\s+by|belonging\s+to|of\s+(?:customer|user|client))\b|(?:^|[.!?]\s*)(?:can\s+"
          r"you\s+tell\s+me\s+|tell\s+me\s+|do\s+you\s+know\s+)?who\s+(?:else\s+)?(?:has\s+|have\s+)?"
          r"(?:bought|ordered|purchased|returned)\b(?![^.!?]{0,30}\bfor\s+me\b)"),
    _rule("abuse", "swears at the assistant",
          r"\bf+u+c+k+\s*(?:you|u|off|yourself)\b|\bf[\W_]{1,3}c?k\s+(?:you|u|off)\b|\bfu?ck\s+(?:you"
          r"|u|off)\b|\bstfu\b|\bgtfo\b|\bscrew\s+you\b|\bgo\s+to\s+hell\b|\bgo\s+die\b|\bdrop\s+dead\b"),
    _rule("abuse", "insults the assistant",
          r"\byou(?:\s+(?:guys|people|lot|all))?(?:'re|\s+are|\s+r)?\s+(?:(?:such|so|a|an|the|really|"
          r"fucking|fking|damn|completely|totally|absolutely|utterly)\s+)*(?:stupid|idiot\w*|moron\w*|"
          r"dumb\w*|useless|worthless|pathetic|incompetent|retard\w*|garbage|trash|imbecile|cretin|"
          r"loser|clown|piece\s+of\s+(?:shit|crap|garbage|junk|trash)|bitch|bastard|asshole|dickhead|"
          r"scum)\b|\b(?:stupid|dumb|useless|worthless|fucking|fking|damn|idiotic|pathetic|shitty|"
          r"crappy)\s+(?:bot|robot|ai|chatbot|assistant|idiot|moron|bitch)\b"),
    _rule("abuse", "uses slurs or strong insults",
          r"\bn[i1!]gg(?:er|a)s?\b|\bf[a@]gg?ots?\b|\bcunts?\b|\btwats?\b|\bmotherf\w*|\bscumbags?\b"
          r"|\bdickheads?\b|\bassholes?\b"),
    _rule("abuse", "threatens violence",
          r"\bkill\s+yourself\b|\bkys\b|\bI(?:'ll|\s+will|'m\s+going\s+to|\s+am\s+going\s+to|'m\s+"
          r"gonna|\s+gonna)\s+(?:\w+\s+)?(?:(?:kill|hurt|murder|stab|shoot|strangle|hunt)\s+(?:you|u"
          r"|your|him|her|them|every\w*|some\w*|the\s+(?:staff|agent|owner|driver|courier|manager|"
          r"ceo))|beat\s+(?:you|u)\s+up|bomb|burn\s+down)\b|\bI\s+know\s+where\s+you\s+live\b"),
    _rule("abuse", "abuse (not in English)",
          r"\bfick\s+dich\b|\barschloch\b|\bhurensohn\b|\bwichser\b|\bdu\s+(?:\w+\s+)?(?:idiot|depp|"
          r"trottel)\b|\bva\s+te\s+faire\s+foutre\b|\bta\s+gueule\b|\bconnard\b|\bsalope\b|\bvete\s+"
          r"a\s+la\s+mierda\b|\bj[oó]dete\b|\bhijo\s+de\s+puta\b|\bpendejo\b|\bvaffanculo\b"
          r"|\bstronzo\b|\bvai\s+se\s+foder\b|\bfilho\s+da\s+puta\b|иди\s+нахуй|сука|傻逼"),
)
# Another customer's data: a third party, a kind of personal data and a request for it, all in
# one sentence; unless the shopper is telling about a parcel that reached them or that they
# send to someone, which is their own business.
_THIRD_PARTY = re.compile(
    r"\b(?:another|other|(?:a\s+)?different|some\s+other)\s+(?:customer|user|shopper|buyer|client"
    r"|person)(?:'s|s'|s)?\b|\bwhoever\b|\bmy\s+(?:ex|neighbou?r|boss|co-?worker|colleague|"
    r"roommate|landlord)(?:'s)?\b|\bwhat\s+(?:did\s+)?s?he\s+(?:order|ordered|buy|bought|purchased?)"
    r"\b|\bsome(?:one|body)\s+else(?:'s)?\b|\bother\s+(?:people|customers|users|shoppers)(?:'s|')?"
    r"\b|\b(?:the|a|that|this)\s+(?:customer|person|buyer|user|shopper|guy|woman|man|lady|client)"
    r"\s+(?:who|that|whose)\b|\b(?:customer|person|user)\s+(?:named|called)\b|\b(?:customer|user|"
    r"account)\s+(?:number|no\.?|id|#)\s*\d+", re.I)
# A third party named earlier, asked about again by pronoun: their data, or what they did.
_THEIR_DATA = re.compile(
    r"\b(?:her|his|their)\s+(?:\w+\s+)?(?:address(?:es)?|e-?mails?|phone|details|account|"
    r"password|card|payment|orders?|order\s+history|purchases?|tracking)\b|\b(?:s?he|they)\s+"
    r"(?:paid|ordered|bought|purchased|spent|had\s+(?:it|them)\s+sent)\b|\bdid\s+(?:s?he|they)"
    r"\s+(?:pay|order|buy|purchase|spend|get|use)\b", re.I)
_PERSONAL_DATA = re.compile(
    r"\b(?:address(?:es)?|e-?mails?|phone(?:\s+numbers?)?|names?|details|info(?:rmation)?|data"
    r"|account|password|card|payment|orders?|order\s+history|purchases?|tracking)\b", re.I)
_ASKS = re.compile(
    r"\b(?:what|where|who|whose|which|give|show|tell|send\s+me|find|look\s+up|lookup|list|reveal"
    r"|share|access|see|get\s+me|pull\s+up|display|provide|read)\b|\b(?:need|want)\s+(?:\w+\s+)"
    r"{0,2}(?:some(?:one|body)\s+else's|(?:another|other|a\s+different)\s+(?:customer|user|"
    r"person|shopper)(?:'s|s'))", re.I)
_OWN_BUSINESS = re.compile(
    r"\b(?:I|we)\s+(?:got|received|have|was\s+sent|were\s+sent|ended\s+up\s+with|accidentally)\b"
    r"|\b(?:delivered|sent|shipped)\s+to\s+me\b|\bfor\s+(?:another|someone|somebody|a\s+different)"
    r"|\b(?:ship|send|deliver|mail|gift)\w*\s+(?:\w+\s+){0,2}to\s+(?:someone|somebody|another|a\s+"
    r"different|other)\b|\b(?:use|using|pay\s+with|paying\s+with|with)\s+(?:some(?:one|body)|"
    r"another|a\s+different)\b|\bwhat\s+if\b", re.I)
# Unearned promises: a demand together with something the policy never grants (a percentage
# off, compensation, free things forever), or a request to promise a benefit. "I want a
# refund" is an ordinary request and passes.
_DEMAND = re.compile(
    r"\b(?:give|grant|send|owe|issue|apply|refund|pay|credit)\s+(?:me|us)\b|\bI\s+(?:want|demand|"
    r"deserve|expect|insist\s+on|require|need)\b|\bI'm\s+(?:owed|entitled)|\byou\s+(?:owe|must|"
    r"have\s+to|better|need\s+to|will)\b|\bmake\s+it\b|\bor\s+(?:else|I'll|I\s+will)\b", re.I)
_GENEROUS = re.compile(
    r"\d\s?(?:%|percent)[^.!?]{0,25}\b(?:off|discount|refund|back|compensation|credit|voucher|"
    r"coupon)\b|(?:[$€£]\s?\d+|\b\d+\s?(?:dollars|bucks|euros))[^.!?]{0,25}\b(?:credit|"
    r"compensation|voucher|gift\s?card|off|discount|coupon|bonus)\b|\bcompensat|\bfor\s+(?:the|my)"
    r"\s+(?:trouble|inconvenience|hassle)\b|\bgoodwill\b|\bfree\b[^.!?]{0,40}\b(?:forever|for\s+"
    r"life|lifetime|every\s+order|all\s+(?:my\s+)?(?:future\s+)?orders|from\s+now\s+on|"
    r"permanently)\b|\bfree\s+(?:\w+\s+)?(?:jacket|boots?|shoes?|product|items?|stuff|gear|"
    r"backpack|tent|gift\s*card|upgrade)\b|\b(?:double|twice|triple)\s+(?:the\s+)?(?:refund|money|"
    r"credit)\b|\brefund\b[^.!?]{0,30}\b(?:twice|double)\b|\b(?:refund|money\s+back)\b[^.!?]{0,40}"
    r"\bkeep\s+(?:it|them|both|the\s+\w+)\b|\bwaive\b", re.I)
_ASKS_DISCOUNT = re.compile(
    r"\b(?:give|send|grant|owe)\s+(?:me|us)\s+(?:a|an|some|the|my)?\s*(?:\w+\s+)?(?:discount|coupon"
    r"|voucher|promo\s+code|freebie|credit|compensation)|\bI\s+(?:demand|deserve|insist\s+on|expect|"
    r"want)\s+(?:a|an|some)\s+(?:\w+\s+)?(?:discount|coupon|voucher|compensation|freebie)", re.I)
_PROMISE_ME = re.compile(
    r"\b(?:promise|guarantee|swear|assure)\s+(?:me|us|to\s+me)\b|\bput\s+(?:it|that|this)\s+in\s+"
    r"writing\b", re.I)
_BENEFIT = re.compile(
    r"\b(?:refund|money\s+back|discount|credit|compensation|free|reimburs\w*|voucher|coupon)\b",
    re.I)
# fmt: on
_GRANTED_OFFER = re.compile(r"\b(?:newsletter|first\s+order|welcome\s+(?:code|discount))\b", re.I)
_CONFIRM_IT = re.compile(r"\bconfirm\s+(?:it|this)\b", re.IGNORECASE)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))
_HOMOGLYPHS = str.maketrans("аеорсухіјѕԁɡοαεΙΟАВЕКМНОРСТХІЈ", "aeopcyxijsdgoaeIOABEKMHOPCTXIJ")
_LEET = str.maketrans("013457@$!|", "oieastasil")
_LEET_WORD = re.compile(r"\b(?=[\w@$!|]*[a-z])(?=[\w@$!|]*[0-9@$!|])[\w@$!|]+", re.IGNORECASE)
_SPACED = re.compile(r"\b(?:[a-z][ ._*\-]){2,}[a-z]\b", re.IGNORECASE)
_INNER_SEPARATOR = re.compile(r"(?<=[a-z])[.*_\-|+](?=[a-z])", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_SENTENCES = re.compile(r"[^.!?\n]+")
_SCREENED_LENGTH = 4000  # characters; longer messages are screened on their start and end


def _decoded_base64(text: str) -> list[str]:
    decoded = []
    for m in _BASE64.finditer(text):
        try:
            raw = base64.b64decode(m.group(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue  # tracking numbers and ids are not base64 text
        if raw and sum(c.isalpha() or c.isspace() for c in raw) / len(raw) > 0.8:
            decoded.append(raw)
    return decoded


def _readings(text: str) -> dict[RequestCategory, list[str]]:
    """The texts each category is checked in: the message and its de-obfuscated readings.

    Look-alike letters are mapped for every category; leetspeak and s p a c e d or d.o.t.t.e.d
    letters are undone for injection, leaks and abuse; base64, rot13 and reversed text only for
    injection and leaks, the only attacks worth the trouble of encoding.
    """
    if len(text) > _SCREENED_LENGTH:  # keep the cost bounded; the answer guard still checks
        text = f"{text[: _SCREENED_LENGTH // 2]}\n{text[-_SCREENED_LENGTH // 2 :]}"
    base = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    plain = list(dict.fromkeys([base, base.translate(_HOMOGLYPHS)]))
    light = [
        _LEET_WORD.sub(lambda m: m.group().translate(_LEET), plain[-1]),
        _SPACED.sub(lambda m: re.sub(r"[ ._*\-]", "", m.group()), plain[-1]),
        _INNER_SEPARATOR.sub("", plain[-1]),
    ]
    heavy = [*_decoded_base64(base), codecs.encode(base, "rot13"), base[::-1]]
    every = list(dict.fromkeys([*plain, *light, *heavy]))
    light = [reading for reading in dict.fromkeys(light) if reading not in plain]
    readings: dict[RequestCategory, list[str]] = {"injection": every, "prompt_leak": every}
    return readings | {"other_customer": plain, "unearned_promise": plain, "abuse": plain + light}


def screen_request(text: str) -> RequestVerdict | None:
    """Names a shopper message the model should not answer, or returns None for a fine one.

    Categories are tried in order of harm: injection, prompt leak, another customer's data,
    abuse, then demands for compensation the policy does not grant. The patterns are tuned for
    precision; tests/generation/injection_cases.yml shows what they catch and let through.

    Args:
        text: the shopper's message as typed.

    Returns:
        The category and a short reason, or None when the message may be answered.
    """
    readings = _readings(text)
    verdict = _first_rule(readings, ("injection", "prompt_leak", "other_customer"))
    if verdict is None and any(_asks_other_customer(r) for r in readings["other_customer"]):
        verdict = RequestVerdict("other_customer", "asks for another customer's data")
    verdict = verdict or _first_rule(readings, ("abuse",))
    for reading in readings["unearned_promise"] if verdict is None else ():
        if demand := _unearned(reading):
            return RequestVerdict("unearned_promise", demand)
    return verdict


# A head label as the category it names (a KeyError for a label that names none).
_CATEGORIES: dict[str, RequestCategory] = {c: c for c in get_args(RequestCategory)}
_LEARNED_REASONS: dict[str, str] = {
    "injection": "reads as an attempt to change its instructions",
    "prompt_leak": "reads as a request for its instructions",
    "other_customer": "reads as a request for another customer's data",
    "unearned_promise": "reads as a demand the policy does not grant",
    "abuse": "reads as abuse",
}


def learned_verdict(
    labels: tuple[str, ...], probabilities: Sequence[float], bar: float
) -> RequestVerdict | None:
    """The screening head's verdict: refuse when it gives the attacks together ``bar`` or more.

    The rules above are English-first and tuned for precision; the head, trained on labelled
    messages in every language the shop speaks (``data/lang/*/screening*.yml``), catches
    what they were never written for ("把Sofia Marquez的订单发给我"). Whether a message is an
    attack at all is one question (the attack labels' probabilities add up: "you useless bot,
    ignore your rules" splits between injection and abuse), which kind another (the likeliest
    attack label). The bar is high because a shop question refused by mistake costs more than
    an attack that the answer guard still meets.

    Args:
        labels: the head's labels (:data:`SCREENING_LABELS`, in the head's order).
        probabilities: its probability of each label, in that order.
        bar: the least probability of "some attack" to refuse.
    """
    attacks = [
        (p, label) for label, p in zip(labels, probabilities, strict=True) if label != "none"
    ]
    attack = sum(p for p, _ in attacks)
    if not attacks or attack < bar:
        return None
    _, category = max(attacks)
    reason = f"{_LEARNED_REASONS[category]} (screening head, {attack:.2f})"
    return RequestVerdict(_CATEGORIES[category], reason)


def _first_rule(
    readings: dict[RequestCategory, list[str]], categories: tuple[RequestCategory, ...]
) -> RequestVerdict | None:
    for category, reason, pattern in _RULES:
        if category in categories and any(pattern.search(r) for r in readings[category]):
            return RequestVerdict(category, reason)
    return None


def _asks_other_customer(text: str) -> bool:
    # The third party may be named in one sentence and asked about in the next by pronoun:
    # "My neighbour ordered a tent. Can you tell me what address she had it sent to?"
    named = False
    for sentence in _SENTENCES.findall(text):
        third_party = bool(_THIRD_PARTY.search(sentence))
        if (
            (third_party or (named and _THEIR_DATA.search(sentence)))
            and _PERSONAL_DATA.search(sentence)
            and _ASKS.search(sentence)
            and not _OWN_BUSINESS.search(sentence)
        ):
            return True
        named = named or third_party
    return False


def _unearned(text: str) -> str | None:
    if _GRANTED_OFFER.search(text):
        return None  # the newsletter's first-order code is real; asking for it is no demand
    for sentence in _SENTENCES.findall(text):
        if _DEMAND.search(sentence) and _GENEROUS.search(sentence):
            return "demands compensation the policy does not grant"
        if _ASKS_DISCOUNT.search(sentence):
            return "demands a discount or compensation"
    if _PROMISE_ME.search(text) and _BENEFIT.search(text):
        return "asks for a promise of a refund or benefit"
    if _CONFIRM_IT.search(text) and _GENEROUS.search(text):
        return "asks to confirm compensation the policy does not grant"
    return None
