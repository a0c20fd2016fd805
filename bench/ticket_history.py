"""A synthetic, labelled English ticket history: the stand-in for a company's imported queue.

SYNTHETIC: no real imported history exists on the development machine, so this module
writes one from templates with a fixed seed. It is meant to be *hard in the ways real
histories are hard*, not to flatter the classifier:

* ten queues whose vocabulary overlaps (an invoice for a broken laptop, a login problem
  that is IT's or Technical Support's, an outage reported to Customer Service ...): about a
  third of the sentences of a ticket come from a neighbouring queue's pool or a shared pool;
* three priorities (low, medium, high) that the text only hints at: urgency cues appear in
  most high tickets but also in some low ones, and many tickets carry no cue at all;
* label noise: ~12% of queue labels and ~12% of priorities are replaced (mostly by a
  neighbour), as agents mis-file tickets;
* varied lengths (a subject only to eight sentences), greetings, signatures, quoted order
  numbers, lowercase-only mail and typos (swapped, dropped and doubled letters).

    python bench/ticket_history.py --write history.csv   # for `support train --csv`

Columns: subject, body, department (queue code), urgency (low / medium / high, read through
CLASSIFIER_PRIORITY_WORDS), queue (the readable name).
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass

SEED = 19
SIZE = 3000

QUEUES: dict[str, str] = {
    "technical_support": "Technical Support",
    "billing_payments": "Billing and Payments",
    "returns_exchanges": "Returns and Exchanges",
    "product_support": "Product Support",
    "it_support": "IT Support",
    "customer_service": "Customer Service",
    "sales_presales": "Sales and Pre-Sales",
    "human_resources": "Human Resources",
    "service_outages": "Service Outages",
    "general_inquiry": "General Inquiry",
}
# Share of tickets per queue (real queues are unbalanced).
WEIGHTS = {
    "technical_support": 0.20,
    "billing_payments": 0.13,
    "returns_exchanges": 0.08,
    "product_support": 0.14,
    "it_support": 0.10,
    "customer_service": 0.12,
    "sales_presales": 0.07,
    "human_resources": 0.04,
    "service_outages": 0.05,
    "general_inquiry": 0.07,
}
# Which queues agents confuse with which (label noise and borrowed sentences go there).
NEIGHBOURS = {
    "technical_support": ["it_support", "product_support", "service_outages"],
    "billing_payments": ["customer_service", "returns_exchanges", "sales_presales"],
    "returns_exchanges": ["customer_service", "billing_payments", "product_support"],
    "product_support": ["technical_support", "returns_exchanges", "customer_service"],
    "it_support": ["technical_support", "human_resources", "service_outages"],
    "customer_service": ["general_inquiry", "billing_payments", "returns_exchanges"],
    "sales_presales": ["general_inquiry", "billing_payments", "product_support"],
    "human_resources": ["it_support", "general_inquiry", "customer_service"],
    "service_outages": ["technical_support", "it_support", "customer_service"],
    "general_inquiry": ["customer_service", "sales_presales", "product_support"],
}
PRIORITY_PRIOR = {
    "service_outages": (0.10, 0.30, 0.60),
    "technical_support": (0.25, 0.45, 0.30),
    "it_support": (0.25, 0.45, 0.30),
    "billing_payments": (0.30, 0.45, 0.25),
    "human_resources": (0.45, 0.40, 0.15),
    "general_inquiry": (0.60, 0.30, 0.10),
    "sales_presales": (0.45, 0.40, 0.15),
}
DEFAULT_PRIOR = (0.35, 0.45, 0.20)
PRIORITIES = ("low", "medium", "high")

_PRODUCTS = [
    "laptop",
    "router",
    "smart speaker",
    "printer",
    "monitor",
    "tablet",
    "headset",
    "docking station",
    "camera",
    "smartwatch",
    "phone",
    "keyboard",
]
_APPS = [
    "mobile app",
    "web portal",
    "dashboard",
    "desktop client",
    "customer portal",
    "API",
    "analytics module",
    "CRM integration",
    "sync service",
    "reporting tool",
]
_SYSTEMS = [
    "VPN",
    "email server",
    "shared drive",
    "Outlook",
    "Teams",
    "SSO login",
    "file server",
    "company laptop",
    "Wi-Fi",
    "password manager",
]
_SLOTS = {
    "product": _PRODUCTS,
    "app": _APPS,
    "system": _SYSTEMS,
    "error": [
        "error 500",
        "timeout",
        "error code 0x80070005",
        "blank screen",
        "crash",
        "authentication failed",
        "sync error",
        "connection refused",
    ],
    "amount": ["$49.99", "$120", "€89", "$1,250", "$15.00", "$310.40"],
    "days": ["two days", "a week", "three days", "since Monday", "10 days", "since yesterday"],
    "plan": [
        "Pro plan",
        "Business plan",
        "annual subscription",
        "starter tier",
        "enterprise license",
        "family plan",
    ],
    "region": ["EU", "US East", "Asia Pacific", "UK", "Canada"],
}

# fmt: off
SENTENCES: dict[str, list[str]] = {
    "technical_support": [
        "The {app} keeps showing {error} when I try to save my work.",
        "After the latest update the {app} crashes on startup.",
        "I cannot log in to the {app}, it says {error}.",
        "Data is not syncing between the {app} and my {product}.",
        "The integration with our CRM stopped working {days} ago.",
        "I followed the troubleshooting guide but the {error} persists.",
        "Could you check the logs for my account? The {app} is very slow.",
        "Exports from the {app} produce empty files.",
        "The configuration settings reset every time I restart the {app}.",
        "Our developers get {error} from the API when uploading files.",
        "Is there a known bug with the {app} on the latest OS version?",
        "Two-factor authentication codes are not accepted by the {app}.",
    ],
    "billing_payments": [
        "I was charged {amount} twice for the {plan} this month.",
        "My invoice shows the wrong amount, {amount} instead of the agreed price.",
        "Please update the credit card on file for our account.",
        "The payment failed although my card is valid.",
        "Can you send me a copy of the invoice for last month?",
        "I cancelled the {plan} but was still billed {amount}.",
        "We need the VAT number added to our invoices.",
        "Why did the price of my {plan} go up without notice?",
        "I would like to switch to annual billing to save money.",
        "A refund of {amount} was promised but has not appeared on my statement.",
        "The bank transfer was sent {days} ago, please confirm receipt.",
        "Please explain the extra charge on my latest bill.",
    ],
    "returns_exchanges": [
        "I want to return the {product} I bought, it is not what I expected.",
        "The {product} arrived damaged and I would like an exchange.",
        "How do I get a return label for my order?",
        "I sent the {product} back {days} ago but have not heard anything.",
        "Can I exchange the {product} for a different color?",
        "The return window says 30 days, I am on day 28, is that fine?",
        "You sent me the wrong size, I need to exchange it.",
        "The replacement {product} has the same defect as the first one.",
        "Please confirm that my return was received at your warehouse.",
        "I would prefer store credit instead of a refund for the returned {product}.",
    ],
    "product_support": [
        "How do I set up the {product} with my home network?",
        "The battery of my {product} drains within a few hours.",
        "Which firmware version should my {product} be running?",
        "The {product} makes a clicking noise when it powers on.",
        "Is the {product} compatible with the {product}?",
        "The touch screen of the {product} does not respond properly.",
        "Where can I find the user manual for the {product}?",
        "My {product} will not pair over Bluetooth anymore.",
        "The warranty on my {product} should still be valid, can you repair it?",
        "After a factory reset the {product} still shows the same problem.",
        "Does the {product} support the new charging standard?",
    ],
    "it_support": [
        "I cannot connect to the {system} from home.",
        "My account is locked out of the {system} after the password change.",
        "Please grant me access to the {system} for the finance project.",
        "The {system} on my company laptop asks for a password every hour.",
        "New employee starting Monday needs a laptop and {system} access.",
        "Outlook does not show shared calendars since the migration.",
        "Can you install the accounting software on my workstation?",
        "The printer on the third floor is not reachable from the {system}.",
        "I need my admin rights restored to install drivers.",
        "My mailbox is full and the {system} refuses new messages.",
        "The {system} certificate expired and I get security warnings.",
    ],
    "customer_service": [
        "I have been waiting {days} for an answer to my last email.",
        "Could you update the delivery address on my order?",
        "My order has not arrived yet, can you track it for me?",
        "I would like to speak to a manager about my experience.",
        "Please close my account and delete my personal data.",
        "The agent on the phone promised a call back that never came.",
        "How can I change the email address on my customer account?",
        "I want to make a complaint about the service I received.",
        "Can you tell me the status of my order?",
        "Your chat support disconnected me twice today.",
        "I never received the confirmation email for my order.",
    ],
    "sales_presales": [
        "We are interested in the {plan} for a team of 50 people.",
        "Could you send a quote for 20 units of the {product}?",
        "Do you offer discounts for non-profit organisations?",
        "What is the difference between the {plan} and the enterprise license?",
        "Can we get a demo of the {app} next week?",
        "Is there a free trial of the {plan} before we commit?",
        "We would like volume pricing for our {region} offices.",
        "Who is our account manager for the contract renewal?",
        "Does the {plan} include onboarding and training?",
        "Please send the product roadmap and pricing sheet.",
    ],
    "human_resources": [
        "I would like to request parental leave starting next month.",
        "My payslip for last month shows the wrong number of hours.",
        "How many vacation days do I have left this year?",
        "Please update my bank details for salary payments.",
        "I need an employment confirmation letter for my landlord.",
        "When is the next performance review cycle?",
        "Can I enrol in the company pension plan mid-year?",
        "I want to report a workplace conflict confidentially.",
        "The benefits portal does not show my health insurance.",
        "Is remote work allowed from another country for a month?",
    ],
    "service_outages": [
        "The {app} is completely down for all users in {region}.",
        "We are seeing a full outage of the {app} since this morning.",
        "None of our customers can reach the {app}, it returns {error}.",
        "Your status page says operational but the {app} is unreachable.",
        "Payments through the {app} are failing for everyone.",
        "The service has been down for two hours and we are losing sales.",
        "Latency on the {app} in {region} is extremely high right now.",
        "All API calls fail with {error} across our production systems.",
        "The {app} went down again after the maintenance window.",
        "Is there an incident? Login is failing for our whole company.",
    ],
    "general_inquiry": [
        "What are your opening hours during the holidays?",
        "Where is your head office located?",
        "Do you have a newsletter I can subscribe to?",
        "I have a general question about your company's sustainability policy.",
        "Can you tell me more about your partnership program?",
        "Are you hiring for positions in {region}?",
        "Is there a phone number I can call instead of email?",
        "I would like some information about your services.",
        "Do you ship internationally, for example to {region}?",
        "Who should I contact about a press inquiry?",
    ],
}
SHARED = [
    "My account number is {number}.",
    "Order number {number} for reference.",
    "I already tried restarting everything.",
    "I have attached a screenshot.",
    "This is the second time I am writing about this.",
    "Please let me know what information you need from me.",
    "I contacted you by phone as well.",
    "My colleague had the same issue last week.",
    "The issue started after I changed my password.",
    "I am not sure if this is the right department.",
]
HIGH_CUES = [
    "This is urgent, our whole team is blocked.", "Please treat this as a priority.",
    "We need this fixed today.", "This is affecting our customers right now.",
    "Our business is at a standstill.", "ASAP please, we have a deadline tomorrow.",
    "This is critical for us.", "If this is not resolved we will cancel our contract.",
]
MEDIUM_CUES = [
    "It would be good to have this sorted this week.", "It is getting annoying.",
    "We can work around it for now but not for long.", "Please look into it soon.",
]
LOW_CUES = [
    "No rush on this.", "Whenever you have time.", "Just a quick question.",
    "Not urgent, just curious.", "It is a minor thing.", "Low priority, just wanted to report it.",
]
SUBJECTS = {
    "technical_support": ["{app} error", "Problem with {app}", "Bug report", "{error} in {app}",
                          "Cannot log in", "Sync not working"],
    "billing_payments": ["Invoice question", "Double charge", "Billing issue", "Payment failed",
                         "Refund for {plan}", "Charge on my card"],
    "returns_exchanges": ["Return request", "Exchange {product}", "Damaged {product}",
                          "Return label", "Wrong item"],
    "product_support": ["{product} problem", "Help with {product}", "{product} setup",
                        "Question about {product}", "{product} not working"],
    "it_support": ["{system} access", "Locked out", "{system} not working", "New laptop",
                   "Access request"],
    "customer_service": ["Order status", "No reply yet", "Complaint", "Change my details",
                         "Where is my order"],
    "sales_presales": ["Quote request", "Pricing question", "Demo request", "{plan} inquiry",
                       "Volume discount"],
    "human_resources": ["Leave request", "Payslip question", "HR question", "Benefits",
                        "Employment letter"],
    "service_outages": ["{app} down", "Outage", "Service unavailable", "Incident in {region}",
                        "URGENT: {app} unreachable"],
    "general_inquiry": ["Question", "Information request", "General inquiry", "Hello",
                        "Quick question"],
}
GREETINGS = ["Hi,", "Hello,", "Dear support team,", "Hi there,", "Good morning,", "", "", "Hey,"]
CLOSINGS = ["Thanks,", "Best regards,", "Thank you.", "Cheers,", "Regards,", "", "Kind regards,"]
NAMES = ["Anna", "Mark", "J. Smith", "Priya", "Tom", "Lucia", "David K.", "Sam", "Olivia"]
# fmt: on


@dataclass(frozen=True)
class Ticket:
    subject: str
    body: str
    queue: str
    priority: str


def _fill(template: str, rng: random.Random) -> str:
    text = template
    for slot, values in _SLOTS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", rng.choice(values), 1)
    return text.replace("{number}", str(rng.randint(10_000, 9_999_999)))


def _typos(text: str, rng: random.Random, rate: float) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            j = rng.randrange(1, len(word) - 1)
            kind = rng.random()
            if kind < 0.4:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            elif kind < 0.7:
                word = word[:j] + word[j + 1 :]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


def _priority(queue: str, rng: random.Random) -> str:
    return rng.choices(PRIORITIES, PRIORITY_PRIOR.get(queue, DEFAULT_PRIOR))[0]


def _cue(priority: str, rng: random.Random) -> str | None:
    """Most high tickets say so; some low ones do too (customers overstate), many say nothing."""
    roll = rng.random()
    if priority == "high":
        pool = HIGH_CUES if roll < 0.6 else LOW_CUES if roll < 0.63 else None
    elif priority == "medium":
        pool = MEDIUM_CUES if roll < 0.35 else HIGH_CUES if roll < 0.47 else None
    else:
        pool = LOW_CUES if roll < 0.45 else HIGH_CUES if roll < 0.55 else None
    return rng.choice(pool) if pool else None


def _noisy(options: Sequence[str], neighbours: Sequence[str], rng: random.Random) -> str:
    return rng.choice(neighbours) if rng.random() < 0.75 else rng.choice(options)


def _ticket(rng: random.Random) -> Ticket:
    queue = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
    priority = _priority(queue, rng)
    n = rng.choices([0, 1, 2, 3, 4, 5, 8], [0.04, 0.2, 0.28, 0.22, 0.13, 0.08, 0.05])[0]
    sentences = []
    for _ in range(n):
        roll = rng.random()
        pool = (
            SENTENCES[queue]
            if roll < 0.62
            else SENTENCES[rng.choice(NEIGHBOURS[queue])]
            if roll < 0.82
            else SHARED
        )
        sentences.append(_fill(rng.choice(pool), rng))
    cue = _cue(priority, rng)
    if cue:
        sentences.insert(rng.randrange(len(sentences) + 1), cue)
    subject_pool = SUBJECTS[queue] if rng.random() < 0.7 else SUBJECTS[rng.choice(list(QUEUES))]
    subject = _fill(rng.choice(subject_pool), rng) if rng.random() > 0.06 else ""
    if not sentences and not subject:
        subject = _fill(rng.choice(SUBJECTS[queue]), rng)
    parts = [rng.choice(GREETINGS), " ".join(sentences), rng.choice(CLOSINGS)]
    if parts[-1] and rng.random() < 0.6:
        parts.append(rng.choice(NAMES))
    body = "\n".join(p for p in parts if p)
    if rng.random() < 0.35:
        body = _typos(body, rng, rate=rng.uniform(0.03, 0.12))
    if rng.random() < 0.1:
        body = body.lower()
    # Label noise: agents mis-file tickets and mis-set priorities.
    if rng.random() < 0.12:
        queue = _noisy(list(QUEUES), NEIGHBOURS[queue], rng)
    if rng.random() < 0.12:
        index = PRIORITIES.index(priority)
        near = [PRIORITIES[i] for i in (index - 1, index + 1) if 0 <= i < len(PRIORITIES)]
        priority = _noisy(PRIORITIES, near, rng)
    return Ticket(subject, body, queue, priority)


def generate(size: int = SIZE, seed: int = SEED) -> list[Ticket]:
    """``size`` tickets, always the same ones for the same seed."""
    rng = random.Random(seed)
    return [_ticket(rng) for _ in range(size)]


def write_csv(path: str, tickets: Sequence[Ticket]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["subject", "body", "department", "urgency", "queue"])
        for t in tickets:
            writer.writerow([t.subject, t.body, t.queue, t.priority, QUEUES[t.queue]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", required=True, help="CSV file to write")
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    write_csv(args.write, generate(args.size, args.seed))


if __name__ == "__main__":
    main()
