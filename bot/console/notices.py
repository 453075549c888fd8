"""What a handed-off shopper is told when no one can answer soon, in the shop's languages.

Kept with the console rather than in the domain's responses: the text depends on the team's
presence and hours, which only the console knows, and needs a time filled in.
"""

from __future__ import annotations

import datetime as dt

_AWAY = {
    "en": "Our support team is away right now and back {when}. Your message is saved and "
    "someone will reply here then. If you'd rather hear back by email, leave your address here.",
    "es": "Nuestro equipo de atención no está disponible ahora; vuelve {when}. Tu mensaje está "
    "guardado y alguien te responderá aquí. Si prefieres una respuesta por correo, deja tu "
    "dirección aquí.",
    "de": "Unser Support-Team ist gerade nicht da und ab {when} wieder erreichbar. Ihre Nachricht "
    "ist gespeichert, und jemand antwortet Ihnen dann hier. Wenn Sie lieber per E-Mail Antwort "
    "möchten, hinterlassen Sie hier Ihre Adresse.",
    "fr": "Notre équipe d'assistance est absente pour le moment et revient {when}. Votre message "
    "est enregistré et quelqu'un vous répondra ici. Si vous préférez une réponse par e-mail, "
    "laissez votre adresse ici.",
    "zh": "我们的客服团队目前不在线，将于{when}回来。您的消息已保存，届时会有人在这里回复您。"
    "如果您希望通过电子邮件收到回复，请在这里留下您的邮箱地址。",
}
_NOBODY = {
    "en": "No one from our team is online at this moment. Your conversation is in our queue and "
    "the first person free will reply here. You can also leave your email address here.",
    "es": "Ahora mismo no hay nadie del equipo conectado. Tu conversación está en la cola y la "
    "primera persona disponible te responderá aquí. También puedes dejar tu correo aquí.",
    "de": "Gerade ist niemand aus unserem Team online. Ihr Gespräch ist in der Warteschlange, und "
    "die erste freie Person antwortet Ihnen hier. Sie können hier auch Ihre E-Mail-Adresse "
    "hinterlassen.",
    "fr": "Personne de notre équipe n'est en ligne pour l'instant. Votre conversation est dans la "
    "file d'attente et la première personne disponible vous répondra ici. Vous pouvez aussi "
    "laisser votre adresse e-mail ici.",
    "zh": "目前我们团队没有人在线。您的对话已在排队，第一位空闲的同事会在这里回复您。"
    "您也可以在这里留下您的邮箱地址。",
}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("el lunes", "el martes", "el miércoles", "el jueves", "el viernes", "el sábado",
           "el domingo"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}  # fmt: skip
_AT = {"en": "{day} at {time}", "es": "{day} a las {time}", "de": "{day} um {time} Uhr",
       "fr": "{day} à {time}", "zh": "{day} {time}"}  # fmt: skip


def _language(language: str | None) -> str:
    return language if language in _AWAY else "en"


def when(opening: dt.datetime, language: str | None) -> str:
    """ "Monday at 08:00 (America/New_York)": the next opening, in the shopper's words."""
    lang = _language(language)
    day = _DAYS[lang][opening.weekday()]
    text = _AT[lang].format(day=day, time=opening.strftime("%H:%M"))
    zone = opening.tzname() or ""
    return f"{text} ({zone})" if zone else text


def away(opening: dt.datetime, language: str | None) -> str:
    """Outside support hours: when the team is back, and the email option."""
    return _AWAY[_language(language)].format(when=when(opening, language))


def nobody_online(language: str | None) -> str:
    """In support hours but no agent has the console open."""
    return _NOBODY[_language(language)]
