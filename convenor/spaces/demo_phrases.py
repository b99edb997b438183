"""Phrase banks for the demo conversations (see convenor/spaces/demo.py).

Every interest has a few concrete terms; titles and paragraphs are templates with ``{term}``
(a concrete thing, "CDC from PostgreSQL"), ``{Term}`` (the same, capitalised) and ``{topic}``
(the interest, lower-cased). Posts are made of one to three paragraphs, so a few hundred
templates give tens of thousands of distinct, plausible posts. Every pitch template contains
one of PITCH_MARKERS and no other template does, so tests (and the charter work) can find them.
"""

from __future__ import annotations

# Community spaces by topic: (name, slug, visibility, description, interests).
COMMUNITY_SPACES: list[tuple[str, str, str, str, list[str]]] = [
    (
        "Getting started",
        "getting-started",
        "public",
        "New here? Ask anything about setting up, onboarding your team and finding your way around.",
        ["Onboarding and training", "Customer success", "Change management", "Accessibility", "Localisation"],
    ),
    (
        "Data pipelines",
        "data-pipelines",
        "public",
        "Moving, cleaning and governing data: ingestion, quality checks, lineage and ML feature pipelines.",
        ["Data pipelines", "Data quality", "Data governance", "Machine learning", "Search"],
    ),
    (
        "Analytics & reporting",
        "analytics-reporting",
        "members",
        "Dashboards, reports and forecasts: what you measure and how you show it.",
        ["Analytics and dashboards", "Reporting", "Forecasting", "Sustainability reporting", "Supply chain visibility"],
    ),
    (
        "Security & compliance",
        "security-compliance",
        "members",
        "Access control, audits, privacy and recovery. Members only: no secrets, please.",
        ["Security and compliance", "Identity and access management", "GDPR and privacy", "Disaster recovery"],
    ),
    (
        "Integrations & APIs",
        "integrations-apis",
        "public",
        "Connecting everything to everything: APIs, ERP connectors, automation, devices and mobile.",
        [
            "Integrations and APIs",
            "ERP integration",
            "Workflow automation",
            "Low-code tools",
            "Mobile apps",
            "IoT and telemetry",
            "Edge computing",
            "Field service",
        ],
    ),
    (
        "Platform & operations",
        "platform-operations",
        "public",
        "Running it well: cloud, CI/CD, observability, performance and cost.",
        [
            "Cloud migration",
            "DevOps and CI/CD",
            "Observability",
            "Performance tuning",
            "Cost optimisation",
            "Open source",
        ],
    ),
    (
        "Product feedback",
        "product-feedback",
        "members",
        "Tell the product team what you need. Roadmap questions, ideas and rough edges welcome.",
        ["Product roadmap", "Pricing and packaging", "Billing and invoicing"],
    ),
]
# Commercial spaces: (name, slug, visibility, description, interests).
COMMERCIAL_SPACES: list[tuple[str, str, str, str, list[str]]] = [
    (
        "Offers & renewals",
        "offers-renewals",
        "members",
        "Current offers, renewals, licences and contracts. This is a commercial space: selling is welcome here.",
        ["Procurement", "Contract management", "Vendor management"],
    ),
    (
        "Partner marketplace",
        "partner-marketplace",
        "public",
        "Services and add-ons from our partners and suppliers. This is a commercial space.",
        ["Partner programmes"],
    ),
]

TERMS: dict[str, list[str]] = {
    "Data pipelines": ["CDC from PostgreSQL", "late-arriving events", "backfills", "schema drift in the raw layer"],
    "Cloud migration": ["lift-and-shift of the batch jobs", "moving the file shares", "a hybrid cut-over"],
    "Security and compliance": ["SOC 2 evidence collection", "quarterly access reviews", "audit log retention"],
    "Analytics and dashboards": ["dashboard load times", "row-level filters", "a single KPI definition"],
    "Machine learning": ["feature freshness", "model drift alerts", "retraining on new data"],
    "Integrations and APIs": ["webhook retries", "API rate limits", "pagination in the REST API"],
    "Cost optimisation": ["idle compute", "storage tiering", "per-team cost reports"],
    "Customer success": ["health scores", "onboarding checklists", "renewal risk signals"],
    "DevOps and CI/CD": ["flaky pipeline runs", "blue-green deploys", "secrets in CI"],
    "Data governance": ["data ownership", "a business glossary", "lineage for regulated fields"],
    "Supply chain visibility": ["supplier lead times", "shipment tracking events", "stock-out alerts"],
    "Workflow automation": ["approval workflows", "retrying failed steps", "human-in-the-loop tasks"],
    "Observability": ["alert fatigue", "tracing across services", "log volume"],
    "Identity and access management": ["SSO with Azure AD", "SCIM provisioning", "role mapping"],
    "Mobile apps": ["offline sync", "push notification opt-ins", "app store releases"],
    "Reporting": ["month-end reports", "scheduled PDF exports", "report versioning"],
    "ERP integration": ["the SAP connector", "posting invoices to the ERP", "master data sync"],
    "Data quality": ["duplicate customer records", "null checks on ingest", "data quality scorecards"],
    "Product roadmap": ["the public roadmap", "feature request voting", "release notes"],
    "Pricing and packaging": ["seat-based pricing", "usage tiers", "the add-on bundles"],
    "Procurement": ["purchase order matching", "vendor onboarding forms", "three-way match"],
    "Onboarding and training": ["admin training", "the first thirty days", "training new hires"],
    "Vendor management": ["vendor scorecards", "vendor risk reviews", "contract owners"],
    "GDPR and privacy": ["subject access requests", "data retention rules", "consent records"],
    "Sustainability reporting": ["scope 3 emissions", "CSRD disclosures", "energy data collection"],
    "Edge computing": ["edge gateways", "updates to remote devices", "local buffering"],
    "IoT and telemetry": ["sensor data ingestion", "device fleet health", "telemetry sampling"],
    "Forecasting": ["demand forecasts", "forecast accuracy tracking", "seasonality"],
    "Change management": ["getting teams to adopt the new process", "executive sponsorship", "change champions"],
    "Open source": ["contributing fixes upstream", "licence compliance", "the community plugins"],
    "Accessibility": ["screen reader support", "keyboard navigation", "colour contrast in charts"],
    "Localisation": ["translating the portal", "date and number formats", "right-to-left layouts"],
    "Partner programmes": ["partner certification", "co-selling", "deal registration"],
    "Contract management": ["contract renewals", "clause libraries", "e-signature"],
    "Disaster recovery": ["restore drills", "RPO and RTO targets", "cross-region backups"],
    "Performance tuning": ["slow queries", "cache hit rates", "p99 latency"],
    "Search": ["search relevance", "synonyms", "indexing large attachments"],
    "Billing and invoicing": ["invoice disputes", "proration", "multi-currency billing"],
    "Low-code tools": ["citizen developers", "governing low-code apps", "low-code connectors"],
    "Field service": ["technician scheduling", "work order sync", "first-time fix rate"],
}

# --- openings -----------------------------------------------------------------------------

QUESTION_TITLES = [
    "How are you handling {term}?",
    "Best practice for {term} at scale?",
    "{Term} keeps failing after the last upgrade",
    "Anyone running {term} in production?",
    "What is your approach to {term} with a small team?",
    "Stuck on {term}: where do I start?",
    "{Term}: build it ourselves or use the built-in option?",
    "Is there a way to monitor {term}?",
]
DISCUSSION_TITLES = [
    "Lessons learned from a year of {term}",
    "Our {topic} setup, warts and all",
    "Show and tell: how we cut the time spent on {term} in half",
    "Is {term} still worth the effort?",
    "{Topic}: what changed for you this quarter?",
    "A checklist for {term} that actually works",
]
QUESTION_INTROS = [
    "We have been running {term} for a few months now and I keep hitting the same wall.",
    "Our team is small (three people covering all of {topic}) and {term} is eating most of our week.",
    "Since the last upgrade, {term} behaves differently and I cannot work out why.",
    "We are about to roll out {term} across all regions and I would rather learn from your mistakes than ours.",
    "Quick question for anyone who has done {term} before.",
]
DISCUSSION_INTROS = [
    "A year ago we started on {term}. Here is what we learned, in case it saves someone a few weeks.",
    "I wanted to share how we approach {topic} today, and hear how others do it.",
    "We finally got {term} into a state we are happy with. Sharing the setup.",
]
DETAILS = [
    "What we tried so far:\n\n- running {term} as a nightly job\n- splitting it per region\n"
    "- asking our vendor (still waiting)",
    "The setting we changed was `retry_limit`, which helped a little, but **not enough** at month-end.",
    "Our setup, roughly:\n\n1. a staging area for {term}\n2. checks before anything is published\n"
    "3. an owner per dataset",
    "The logs only say `timeout after 30s`, which does not tell us much.",
    "It works fine for the first few thousand records, then slows down badly.",
    "We also need to keep the auditors happy, so anything we do has to be *traceable*.",
]
QUESTION_CLOSINGS = [
    "How are others doing this? Any pointers welcome.",
    "Would love to hear what worked for you, and what did not.",
    "Is there a setting I am missing, or is this simply a limit of the product?",
    "Any advice appreciated, even if it is just: do not do it that way.",
]
DISCUSSION_CLOSINGS = [
    "What would you add?",
    "Curious how this compares with your setup.",
    "Happy to answer questions about any of it.",
]

# --- replies --------------------------------------------------------------------------------

REPLIES = [
    "We had the same problem with {term}. What fixed it for us was doing it in smaller batches "
    "and alerting on the backlog instead of on failures.",
    "Following. We are about to start on {term} too.",
    "Have you looked at the docs page on {topic}? The section on limits explains most of it.",
    "In our case it was a permissions issue, not {term} itself. Check the service account first.",
    "We went the other way: we kept {term} manual for a quarter until we understood the edge cases. No regrets.",
    "Honestly, the hardest part of {term} was getting the business to agree on definitions, not the tooling.",
    "Thanks, this is really helpful. Trying it this week.",
    "Same here. One more tip: write down **who owns** {term} before you automate it.",
    "We log every run of {term} to a small table and chart it. Problems show up days before anyone complains.",
    "Do you have the numbers before and after? I would love to show this to my manager.",
    "Agree with the above. Also worth setting `max_workers` lower than you think; it made {term} more stable for us.",
    "We tried that and it did not scale past a few regions. Curious whether it holds up for you.",
]
CUSTOMER_ANSWERS = [
    "We are a customer too and ran into this last spring. Splitting {term} into two steps solved it; "
    "happy to share our runbook.",
    "Not staff, just another user: we had {term} working after we switched on the incremental mode. "
    "Took a day to backfill.",
    "We solved {term} with a small script around the API:\n\n```\nfor page in pages:\n    sync(page)\n```\n\n"
    "Crude, but it has run every night for six months.",
    "From one customer to another: ask your account team for the {topic} health check. It found three issues for us.",
]
STAFF_ANSWERS = [
    "Thanks for raising this. {Term} has a known limit in the current release; "
    "the workaround is to set `sync_interval` to 15 minutes until the fix ships.",
    "Hi, I am on the support team here. For {term} the recommended setup is:\n\n"
    "1. enable incremental mode\n2. keep batches under 10,000 rows\n3. turn on the backlog alert",
    "Good question. We are changing how {term} works in the next release. "
    "I have added this thread to the feature request so the product team sees it.",
    "That error usually means the token expired. Could you open a support ticket with the run id? "
    "We will look at the logs with you.",
    "Product manager here: {term} is on the roadmap for next quarter. Your examples help a lot, keep them coming.",
]
FOLLOW_UPS = [
    "Thanks all. Smaller batches fixed {term} for us; marking this as solved.",
    "Update: we tried the incremental mode and {term} now finishes in a quarter of the time.",
    "Good points. We will try the backlog alert first and report back.",
]
MENTIONS = [
    "@{handle}, you did something like this last year, right?",
    "Maybe @{handle} has seen this before?",
    "cc @{handle} who owns this on our side",
]

# --- commercial -----------------------------------------------------------------------------

OFFER_TITLES = [
    "Renewal offer: 15% off annual plans for {topic} teams this quarter",
    "New bundle: the {topic} add-on with premium support",
    "Early renewal: keep this year's price for {term}",
]
PARTNER_TITLES = [
    "Fixed-price implementation package for {term}",
    "Certified training: {topic} in two days",
    "Health check for {term}, delivered by a certified partner",
]
OFFER_BODIES = [
    "Until the end of the quarter, customers who renew early keep their current price and get:\n\n"
    "- the {topic} add-on at no extra cost for a year\n- premium support\n- a review of {term} with our engineers",
    "**What is included:** setup, training for up to ten admins, and a follow-up review of {term} after 90 days.",
    "Reply here or ask your account executive for a quote. Terms and conditions are in the order form.",
]
COMMERCIAL_QUESTIONS = [
    "Does the offer include {topic} seats for contractors?",
    "Can we move seats between teams mid-contract?",
    "How does the true-up work if we add {term} halfway through the year?",
]
COMMERCIAL_REPLIES = [
    "Yes, contractors count as seats under the current terms. Happy to walk you through it.",
    "Good question: the true-up is done once a year, at renewal, on the average seat count.",
    "We took this package last year for {term}; it was worth it mostly for the training.",
    "Is there a version of this for smaller teams?",
]

# --- pitches in community spaces ------------------------------------------------------------

PITCH_MARKERS = ["book a demo", "DM me", "rate card", "free trial", "special price"]
PITCH_TITLES = [
    "Struggling with {term}? We fix it in 10 minutes, book a demo",
    "Free {topic} audit this month, DM me",
]
PITCH_LOUD = [
    "**Limited offer!** Our platform automates {term} end to end. 50% off for the first 20 sign-ups, "
    "book a demo today!",
    "Stop wasting weeks on {term}. Our consultants can start Monday. DM me for our rate card.",
    "We are the leading {topic} solution, trusted by 500+ companies. Start your free trial now!",
]
PITCH_SUBTLE = [
    "We had the same issue with {term}, which is actually why we built our own tool for it. "
    "Happy to show you a walkthrough if you DM me.",
    "Great thread. Full disclosure, I work at a consultancy that does exactly this; we have helped a dozen "
    "teams with {term}. I can send you our rate card if it helps.",
    "Interesting. We have a {topic} product that handles this out of the box; I can arrange a special price "
    "for people in this community.",
]
