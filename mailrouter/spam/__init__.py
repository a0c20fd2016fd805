"""Spam and forged senders: verdicts from a trusted filter in front (SpamAssassin, rspamd,
Authentication-Results), an optional direct check with a running spamd, and a small learned
filter that ships trained and learns from staff's "spam / not spam" decisions.

The intake asks one question (``verdict.judge``) before its write transaction and gets one
answer (``SpamVerdict``); everything else here is a part of that answer.
"""
