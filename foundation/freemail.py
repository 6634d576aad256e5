"""Free-mail providers: domains shared by many unrelated people, so a domain here is nobody's own (it never
links a client account, and is never the agency's)."""

from __future__ import annotations

FREE_MAIL = frozenset(
    (
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr",
        "hotmail.de", "hotmail.es", "hotmail.nl", "live.com", "live.co.uk", "live.fr", "live.nl", "msn.com",
        "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.es", "ymail.com", "icloud.com", "me.com",
        "mac.com", "aol.com", "gmx.com", "gmx.de", "gmx.net", "gmx.fr", "web.de", "t-online.de", "freenet.de",
        "proton.me", "protonmail.com", "pm.me", "mail.com", "zoho.com", "yandex.com", "yandex.ru",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "libero.it", "ziggo.nl", "kpnmail.nl",
        "telenet.be", "skynet.be", "fastmail.com", "hey.com", "tutanota.com", "mail.ru", "qq.com", "163.com"
    )
)
