"""What a mail server's reply to RCPT TO or MAIL FROM says: about the mailbox, about us, or nothing yet.

Real servers speak dialects (see checks/data/smtp_replies.tsv, every line from a public source): Yandex
answers an unknown user "5.7.1 No such user!", Google a receiving-rate limit "5.2.1", Postfix puts a
blocklist hit about *our* address at RCPT time, Exim fails *our sender's* verification with
"Unrouteable address". So the codes alone cannot decide, and the order of the rules below matters:

1. 2xx: accepted. At MAIL FROM every refusal is about our sender: 5xx prober-rejected, else temporary.
2. At RCPT, anything not 5xx is temporary (4xx greylisting, 421, 452 "too many recipients"...).
3. Microsoft's documented recipient answers: 5.4.1 / 5.7.504 "Recipient address rejected: Access
   denied" (Directory Based Edge Blocking: the recipient is not in the tenant's directory) and 5.7.505
   "Access denied, banned recipient" → mailbox.
4. Anything about the client, the sender or our traffic — blocked, listed, banned, denied, policy,
   reputation, spam, SPF/DMARC, reverse DNS, HELO, relay, authentication, rate, "too many" — is
   prober-rejected (group E), never mailbox-not-found (D3), whatever its enhanced status code.
5. Enhanced code 5.1.x (bar 5.1.7/5.1.8, the sender's address) or 5.2.x → mailbox (unknown, disabled, full).
6. Words that name the mailbox (user unknown, no such user, does not exist, invalid recipient,
   mailbox unavailable, disabled, over quota...) → mailbox, whatever the code (5.7.1 "No such user!").
7. Any other 5.7.x → prober-rejected; any other 5xx → temporary: we cannot tell, so E, never D.
"""

from __future__ import annotations

import re

from checks.model import (
    PROBE_ACCEPTED,
    PROBE_MAILBOX_REJECTED,
    PROBE_PROBER_REJECTED,
    PROBE_TEMPORARY,
    SmtpReply,
)

__all__ = ["STAGE_MAIL", "STAGE_RCPT", "about_us", "classify_reply", "names_the_mailbox"]

STAGE_RCPT = "rcpt"
STAGE_MAIL = "mail"

# Microsoft's own NDR table: 5.4.1 / 5.7.504 "Recipient address rejected: Access denied" (Directory
# Based Edge Blocking) and 5.7.505 "Access denied, banned recipient" = the recipient's address doesn't
# exist or is not valid, answered to every sender. Only these exact code + text pairs.
_DBEB_TEXT = re.compile(r"recipient address rejected:\s*access denied\.?", re.IGNORECASE)
_MICROSOFT_RECIPIENT: dict[str, re.Pattern[str]] = {
    "5.4.1": _DBEB_TEXT,
    "5.7.504": _DBEB_TEXT,
    "5.7.505": re.compile(r"access denied, banned recipient\.?", re.IGNORECASE),
}

# Replies about the client (our IP, its names), the sender (our MAIL FROM, its domain, SPF) or our
# traffic (rates, volume). One list, read in full by the README's "Reading replies" section.
_ABOUT_US = re.compile(
    "|".join(
        (
            # our address and how it is judged
            r"client host", r"\bclient\b.*\b(?:blocked|rejected|denied)", r"your ip", r"\bip address(?:es)?\b",
            r"sending ip", r"\bthe ip\b", r"\bip\b.{0,40}\b(?:blocked|listed|block ?list|black ?list)",
            r"\bfrom (?:your )?(?:ip|host|server|location)", r"mail from \S+ (?:not allowed|refused|rejected)",
            r"connections? (?:will )?not (?:be )?accepted", r"connection rejected", r"rejecting connections",
            # blocklists and reputation
            r"block ?list", r"black ?list", r"\bblock(?:ed|ing)?\b", r"\bbanned\b", r"\blisted\b", r"\bdnsbl\b",
            r"\brbl\b", r"spamhaus", r"spamcop", r"\bsorbs\b", r"abusix", r"uceprotect", r"cloudmark",
            r"senderbase", r"\bsbrs\b", r"reputation", r"\bspam", r"junk ?mail", r"\babuse\b", r"suspicious",
            r"unsolicited",
            # refusals aimed at the client or at everything we might be
            r"access denied", r"\bdenied\b", r"(?<!mailbox name )not allowed", r"not permitted", r"prohibit",
            r"not authori[sz]ed", r"unauthori[sz]ed", r"polic(?:y|ies)", r"forged", r"spoof",
            # our names: reverse DNS, HELO, the sender and its domain
            r"reverse (?:dns|hostname|lookup)", r"\bptr\b", r"\brdns\b", r"\bhostname\b", r"\bhelo\b", r"\behlo\b",
            r"\bsender\b", r"mail ?from", r"\benvelope\b", r"\bspf\b", r"\bdmarc\b", r"\bdkim\b",
            r"authenticat", r"\bdns\b", r"ipv6", r"\brelay(?!=| recipient table)", r"\btls\b",
            # our traffic
            r"\brate\b", r"rate.?limit", r"too many(?! messages (?:on|in) the (?:server|mailbox))", r"too (?:quickly|fast)", r"frequen", r"per (?:hour|minute|day)",
            r"\bvolume\b", r"throttl", r"exceeded (?:the |its |their )?(?:permitted |sending |connection )?limits?\b(?! for the mailbox)",
            r"greylist", r"graylist", r"try again later", r"come back later",
        )
    ),
    re.IGNORECASE,
)

# Words that name the recipient's mailbox as the problem (unknown, invalid, disabled, full).
_MAILBOX = re.compile(
    "|".join(
        (
            r"user unknown", r"unknown user", r"no such (?:user|mailbox|recipient|person|address)",
            r"unknown (?:recipient|local part|address)", r"recipient (?:unknown|invalid|not found|rejected)",
            r"invalid (?:recipient|mailbox|address|email address)", r"not a valid (?:mailbox|email address|recipient)",
            r"mailbox (?:not found|unavailable|is unavailable|unallocated|is disabled|has been disabled|inactive)",
            r"\bno mailbox\b", r"does ?n[o']t exist", r"do(?:es)?n't exist", r"dosn't exist", r"not exist",
            r"could not be found", r"unrout(?:e)?able", r"addressee unknown", r"\baddress rejected",
            r"(?:user|recipient|mailbox) not found",
            r"ha(?:ve|s) an? (?:\S+ )?account", r"no longer (?:valid|available|on server)",
            r"not (?:our|a) customer", r"\bdisabled\b", r"discontinued", r"\binactive\b", r"deactivated",
            r"over ?quota", r"quota exceeded", r"mailbox (?:is )?full", r"storage allocation", r"size limit exceeded",
            r"\bunallocated\b", r"not in recipient list", r"mailbox name not allowed", r"recipient unavailable",
        )
    ),
    re.IGNORECASE,
)


def about_us(text: str) -> bool:
    """True when a reply's text is about the client, the sender or our traffic, not the mailbox."""
    return _ABOUT_US.search(text) is not None


def names_the_mailbox(text: str) -> bool:
    """True when a reply's text says the recipient's mailbox is unknown, invalid, disabled or full."""
    return _MAILBOX.search(text) is not None


def classify_reply(reply: SmtpReply, stage: str = STAGE_RCPT) -> str:
    """accepted / mailbox rejected (D3 material) / prober rejected / temporary, for a RCPT or MAIL FROM reply.

    The rule that matters most: a reply about us is never "mailbox rejected", with or without an
    enhanced status code. Anything we cannot read is temporary (E), never D.
    """
    code = reply.code
    if 200 <= code < 300:
        return PROBE_ACCEPTED
    if stage == STAGE_MAIL:
        return PROBE_PROBER_REJECTED if 500 <= code < 600 else PROBE_TEMPORARY
    if not 500 <= code < 600:
        return PROBE_TEMPORARY
    text = reply.text
    enhanced = reply.enhanced or ""
    documented = _MICROSOFT_RECIPIENT.get(enhanced)
    if documented is not None and documented.search(text) and not about_us(documented.sub(" ", text)):
        return PROBE_MAILBOX_REJECTED
    if about_us(text):
        return PROBE_PROBER_REJECTED
    if enhanced.startswith(("5.1.", "5.2.")) and enhanced not in ("5.1.7", "5.1.8"):
        return PROBE_MAILBOX_REJECTED
    if names_the_mailbox(text):
        return PROBE_MAILBOX_REJECTED
    if enhanced.startswith("5.7."):
        return PROBE_PROBER_REJECTED
    return PROBE_TEMPORARY
