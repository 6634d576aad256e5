"""Courtesy only: a newest text that thanks, approves or says it is fine, and asks nothing.

A client's "Brilliant, thanks" under "Re: Any news on the video?" is no progress query, but the model
reads the subject with the body, and a short body lets the subject's words decide (blind round 25: a thanks
after the manager's reply was read as a revision request 0.83 and reopened the thread). A text made only of
greetings, thanks, praise, approval and sign-offs, with no question, is read as `other` before the model is
asked. Anything else in it (a "but", a second sentence that asks, a question mark) leaves it to the model.
"""

from __future__ import annotations

import re

_NAME = r"(?-i:(?:\s+[A-Z][\w'’-]*){0,2})"  # "thanks Tom", "cheers Ann Lee": a name after a courtesy word
_THANKS = (r"(?:many |big |huge |a million |)(?:thanks|thank you|thank u|thx|thnx|tnx|ty|tyvm|cheers|ta)"
           r"(?: (?:so|very) much| a lot| a million| heaps| loads| again| kindly| both| all| guys| team| everyone|"
           r" everybody| folks| x+)*")
_FOR = (r"(?: for (?:this|that|the (?:quick |fast |speedy |prompt )?(?:update|updates|reply|response|answer|"
        r"turnaround|info|information|help|confirmation|heads[- ]up|fix|changes?|new version|files?|invoice|"
        r"credit note|correction)|your (?:quick |fast |prompt )?(?:help|reply|response|update|time|work|efforts?|"
        r"patience|support)|(?:sorting|fixing|checking|looking into|getting back to me on|confirming|updating|"
        r"sending)(?: (?:this|that|it|them))?(?: out)?(?: so (?:quickly|fast|promptly))?|everything|all (?:your|the) "
        r"(?:help|work)|getting back to me(?: so (?:quickly|fast))?|the (?:quick )?turnaround))?")
_PRAISE = (r"(?:(?:that'?s|that is|it'?s|it is|this is|looks|look|sounds|all|everything'?s|everything is|"
           r"all is|really|very|just|so|absolutely|)\s*)*"
           r"(?:great|perfect|brilliant|lovely|awesome|fantastic|excellent|wonderful|amazing|super|nice|cool|"
           r"good|fine|fab|fabulous|spot on|sorted|ok|okay|k|grand|ace|superb|top|beautiful|stunning|"
           r"great stuff|nice one|good stuff|good news|great news|much appreciated|appreciated|"
           r"(?:all )?received|(?:well )?noted|got it|understood|will do|works for (?:me|us)|that works|"
           r"all clear|clear|approved|all good from (?:us|me|our side)|exactly what we (?:needed|wanted)|"
           r"no (?:further|more) (?:changes|comments|edits)|nothing (?:more|else) (?:to do|needed|from us)|"
           r"(?:yes|yep|yup|yeah) that'?s (?:the one|it|right|correct)|that'?s the one|(?:got|have|received) "
           r"(?:it|them|the files?|the invoice|the link|the pdf)|looking (?:great|good)|installed|all restored|"
           r"yes|yep|yup|yeah|ok to (?:print|go|publish|send|launch)|good to go|lgtm|ship it|"
           r"signed off(?: (?:from|on) (?:our|my) (?:side|end))?|looks good to (?:us|me)|"
           r"(?:all |fully |now )?approved(?: (?:from|on) (?:our|my) (?:side|end)| by (?:us|me|legal|the client))?|"
           r"all approved|signed off|go ahead|please go ahead|happy with (?:that|this|it)|"
           r"we'?re happy|i'?m happy|love it|we love it|loving it|love them|appreciate it|"
           r"we appreciate (?:it|that|your help)|i appreciate (?:it|that|your help)|no worries|no problem|"
           r"all good now|all sorted|all fixed|problem solved|issue resolved|resolved|confirmed|that'?s fine)"
           r"(?: now| then| for (?:me|us))?")
_OTHER_LANGUAGES = (r"(?:merci(?: beaucoup| bien| infiniment| pour (?:tout|votre aide|la mise à jour|le retour))?|"
                    r"parfait|super|génial|top|nickel|très bien|c'?est parfait|c'?est noté|bien reçu|"
                    r"danke(?: schön| sehr| vielmals| euch| dir)?|vielen (?:dank|lieben dank)|herzlichen dank|"
                    r"passt(?: so)?|perfekt|prima|klasse|toll|super|alles klar|sehr gut|"
                    r"(?:muchas )?gracias(?: por todo| por la actualización)?|perfecto|genial|estupendo|"
                    r"de acuerdo|recibido|aprobado|freigegeben|genehmigt|validé|approuvé|c'?est validé|"
                    r"bon pour accord|bon à tirer|(?:todo )?perfecto|todo bien|todo correcto|"
                    r"goedgekeurd|akkoord|ga je gang|ga uw gang|approvato|aprovado|"
                    r"(?:danke|vielen dank) schön|schönes wochenende|bon week-end|buen fin de semana|fijn weekend|"
                    r"спасибо(?: большое| огромное)?|благодарю|дякую|"
                    r"(?:hartelijk )?bedankt|dank (?:je|u)(?: wel)?|top|prima|perfect|helemaal goed|"
                    r"grazie(?: mille)?|perfetto|ottimo|obrigad[oa]|perfeito|dziękuję|tack(?: så mycket)?|"
                    r"takk|kiitos|mange tak|tak|"
                    # Japanese, Chinese, Korean: thanks as written in a short reply
                    r"ありがとうございます|ありがとうございました|ありがとう|助かります|承知しました|了解です|"
                    r"谢谢|多谢|感谢|謝謝|收到|好的|감사합니다|고맙습니다|감사해요|알겠습니다)")
_GREETING = (r"(?:hi|hello|hey|dear|morning|good (?:morning|afternoon|evening)|hiya|hallo|bonjour|salut|hola|"
             r"ciao|hej|moin|guten (?:morgen|tag)|beste|buongiorno|olá)")
_SIGN_OFF = (r"(?:best|best regards|kind regards|regards|warm regards|many thanks|thanks|cheers|"
             r"all the best|br|kr|rgds|talk soon|speak soon|"
             r"(?:have|enjoy) (?:a |the |your )?(?:(?:good|great|nice|lovely|wonderful|relaxing|restful) )?"
             r"(?:day|weekend|week|evening|one|holiday|holidays|christmas|break|time off|trip)|"
             r"happy (?:holidays|christmas|new year|friday|easter)|merry christmas|"
             r"cordialement|bien à vous|bonne journée|viele grüße|mit freundlichen grüßen|lg|vg|mfg|"
             r"saludos|un saludo|atentamente|met vriendelijke groet|groeten|groetjes|mvg|saluti|cordiali saluti)")

_ONE = rf"(?:{_GREETING}{_NAME}|{_THANKS}{_FOR}|{_PRAISE}|{_OTHER_LANGUAGES}|{_SIGN_OFF})"
# "perfect thx", "great thanks Tom": two courtesies without a comma between them
_CLAUSE = re.compile(rf"{_ONE}(?:\s+{_ONE})?(?:{_NAME})?", re.IGNORECASE)
_GREETING_ONLY = re.compile(rf"{_GREETING}{_NAME}", re.IGNORECASE)
_SPLIT = re.compile(r"[.!;,:\n。！、，；：]+|\s+[-–—]\s+|\s+(?:and|&)\s+", re.IGNORECASE)
_EMOTICON = re.compile(r"(?<!\w)[:;=]-?[)D(Pp3]+(?!\w)|<3|[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+")
_DECORATION = re.compile(r'[\s"()*~_+=<>\[\]]+')
_NAME_LINE = re.compile(r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2}")
_LIMIT = 240  # longer than a few lines of thanks is a message with something to say


def only_courtesy(text: str) -> bool:
    """True when the newest ``text`` thanks, praises, approves or greets and does nothing else (no question)."""
    text = text.strip()
    if not text or len(text) > _LIMIT or "?" in text or "？" in text:
        return False
    lines = [line.strip() for line in _EMOTICON.sub(" ", text).splitlines() if line.strip()]
    if len(lines) > 1 and _signed(lines[-1]):
        lines = lines[:-1]  # the sender's name under the thanks
    clauses = [_DECORATION.sub(" ", part).strip() for part in _SPLIT.split("\n".join(lines))]
    clauses = [clause for clause in clauses if clause]
    if len(clauses) > 1 and _signed(clauses[-1]):
        clauses = clauses[:-1]  # "Thanks, Ann"
    return (bool(clauses) and all(_CLAUSE.fullmatch(clause) for clause in clauses)
            and not all(_GREETING_ONLY.fullmatch(clause) for clause in clauses))  # "Hola Andrés," says nothing yet


def _signed(last: str) -> bool:
    """A sender's name closing the text ("Ann", "Tom Hill"), not a courtesy that looks like one ("Thanks")."""
    return bool(_NAME_LINE.fullmatch(last)) and not _CLAUSE.fullmatch(last)
