"""Build the charter corpus: ``python -m convenor.charter.corpus.build`` (deterministic, seeded).

Writes ``train.jsonl`` (what the detector learns from) and ``heldout.jsonl`` (what it is
measured on) next to this file. Both come from the same *machinery* but from disjoint
material: every template list and every vocabulary list below is split by position, one
item in four going to the held-out family only, so the held-out texts use sentences,
products, companies, names and places the training texts never contain.

A post is assembled from parts: an optional greeting or context line, one to five
sentences of its intent (mixing sub-intents of the same label), optional neutral filler
shared by both labels, an optional sign-off, then surface noise (lowercase, typos, emoji,
links, @mentions, markdown, paragraph breaks). Templates use ``{slot}`` for vocabulary and
``[a|b|c]`` for inline alternatives, so the same intent is worded many ways and the model
cannot key on a handful of template words. See docs/charter.md.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240605
N_TRAIN = 10000
N_HELDOUT = 1600


def split(items: list[str], family: str) -> list[str]:
    """Items of one family: 'heldout' gets every fourth item, 'train' the rest.

    The training family is split again the same way for choosing the operating point:
    'train-val' gets every fifth of the training items, 'train-fit' the rest. train.jsonl
    holds both (the model learns from all of it); only the detector's threshold choice
    fits on 'train-fit' rows and measures on 'train-val' rows.
    """
    if family == "heldout":
        return [x for i, x in enumerate(items) if i % 4 == 3]
    train = [x for i, x in enumerate(items) if i % 4 != 3]
    if family == "train":
        return train
    return [x for j, x in enumerate(train) if (j % 5 == 4) == (family == "train-val")]


# -- vocabulary ---------------------------------------------------------------------------

INDUSTRIES: dict[str, list[str]] = {
    "software": [
        "CI pipelines",
        "feature flags",
        "error monitoring",
        "API gateways",
        "code review",
        "log search",
        "on-call rotas",
        "SSO setup",
    ],
    "logistics": [
        "route planning",
        "fleet telematics",
        "warehouse slotting",
        "last-mile delivery",
        "freight invoices",
        "dock scheduling",
        "proof of delivery",
        "customs paperwork",
    ],
    "manufacturing": [
        "predictive maintenance",
        "shop-floor scheduling",
        "quality inspection",
        "MES dashboards",
        "spare parts inventory",
        "OEE tracking",
        "supplier audits",
        "CNC programming",
    ],
    "healthcare": [
        "patient scheduling",
        "EHR integration",
        "clinical coding",
        "appointment reminders",
        "staff rostering",
        "lab results",
        "telehealth visits",
        "claims processing",
    ],
    "finance": [
        "month-end close",
        "expense reports",
        "bank reconciliation",
        "AP automation",
        "audit trails",
        "cash forecasting",
        "KYC checks",
        "payroll runs",
    ],
    "retail": [
        "stock replenishment",
        "POS integration",
        "loyalty programmes",
        "click and collect",
        "returns handling",
        "shelf labels",
        "footfall analytics",
        "gift cards",
    ],
    "hospitality": [
        "table bookings",
        "room pricing",
        "housekeeping rotas",
        "guest reviews",
        "menu costing",
        "channel management",
        "event bookings",
        "kitchen ordering",
    ],
    "agriculture": [
        "irrigation scheduling",
        "yield mapping",
        "herd records",
        "soil sampling",
        "grain storage",
        "spray logs",
        "greenhouse climate",
        "farm payroll",
    ],
    "education": [
        "course scheduling",
        "gradebooks",
        "parent messaging",
        "timetabling",
        "LMS integrations",
        "exam proctoring",
        "student attendance",
        "library systems",
    ],
    "energy": [
        "meter data",
        "outage reporting",
        "solar monitoring",
        "grid forecasting",
        "asset inspections",
        "EV charger management",
        "field crews",
        "tariff modelling",
    ],
    "marketing": [
        "campaign reporting",
        "social scheduling",
        "SEO audits",
        "landing pages",
        "email newsletters",
        "brand guidelines",
        "attribution",
        "influencer briefs",
    ],
    "consulting": [
        "timesheets",
        "proposal writing",
        "resource planning",
        "client onboarding",
        "knowledge bases",
        "utilisation reports",
        "engagement letters",
        "workshops",
    ],
    "consumer goods": [
        "packaging redesign",
        "subscription boxes",
        "product reviews",
        "DTC shipping",
        "retail listings",
        "sample requests",
        "shade matching",
        "refill programmes",
    ],
    "construction": [
        "site diaries",
        "snagging lists",
        "tender documents",
        "plant hire",
        "health and safety logs",
        "BIM models",
        "subcontractor payments",
        "material takeoffs",
    ],
}
PRODUCTS = [
    "Northwind Sync",
    "Ledgerly",
    "Fleetwise",
    "Stackpilot",
    "Harvestly",
    "CareBridge",
    "Shelfie",
    "Gridline",
    "Tutora",
    "Brightdesk",
    "Routemaster Pro",
    "Quillbase",
    "Orbitly",
    "Forgeworks",
    "Pennylane Books",
    "Dockhand",
    "Beacon CRM",
    "Pantrio",
    "Millstone",
    "Tessera",
    "Vantage Ops",
    "Clearpath",
    "Hopscotch",
    "Kettle",
    "Lumen Analytics",
    "Parcelio",
    "Sprout HR",
    "Threadline",
    "Wavelength",
    "Yardstick",
    "Zephyr Cloud",
    "Atlas Forms",
    "Cobalt Pay",
    "Driftwood",
    "Emberly",
    "Fathom BI",
    "Granary",
    "Helix Labs",
    "Inkwell",
    "Juniper Desk",
]
COMPANIES = [
    "Acme Freight",
    "Globex",
    "Initech",
    "Umbrella Foods",
    "Stark Farms",
    "Wayne Logistics",
    "Hooli",
    "Vandelay Imports",
    "Soylent Retail",
    "Cyberdyne Care",
    "Tyrell Energy",
    "Wonka Sweets",
    "Oceanic Hotels",
    "Massive Dynamic",
    "Pied Piper",
    "Dunder Paper",
    "Gringotts Finance",
    "Monarch Schools",
    "Blue Sun",
    "Nakatomi Trading",
    "Bluth Homes",
    "Prestige Worldwide",
    "Sterling Cooper",
    "Los Pollos",
    "Krusty Brands",
    "Virtucon",
    "Gekko & Co",
    "Oscorp Health",
    "Duff Beverages",
    "Aperture Labs",
    "Black Mesa Energy",
    "Sirius Cybernetics",
]
NAMES = [
    "Anna",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jamal",
    "Kasia",
    "Luis",
    "Maya",
    "Nils",
    "Olu",
    "Priya",
    "Quentin",
    "Rosa",
    "Sami",
    "Tomasz",
    "Uma",
    "Viktor",
    "Wen",
    "Yusuf",
    "Zoe",
    "Marco",
    "Aisha",
    "Pete",
    "Lena",
    "Raj",
    "Sofia",
    "Owen",
]
CITIES = [
    "Leeds",
    "Lyon",
    "Austin",
    "Rotterdam",
    "Dublin",
    "Kraków",
    "Porto",
    "Denver",
    "Manchester",
    "Ghent",
    "Melbourne",
    "Toronto",
    "Bristol",
    "Munich",
    "Nairobi",
    "Glasgow",
    "Lisbon",
    "Seattle",
    "Utrecht",
    "Cape Town",
    "Oslo",
    "Madrid",
    "Boston",
    "Bilbao",
]
DAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "next Tuesday",
    "the 14th",
    "March 3rd",
    "Thursday evening",
    "the 22nd",
    "next month",
    "Saturday morning",
]
ROLES = [
    "head of ops",
    "IT manager",
    "finance lead",
    "practice manager",
    "store manager",
    "plant manager",
    "CTO",
    "marketing lead",
    "school bursar",
    "farm manager",
    "product owner",
    "procurement lead",
]
FEATURES = [
    "CSV export",
    "bulk edit",
    "the SSO login",
    "dark mode",
    "the mobile app",
    "webhooks",
    "the audit log",
    "scheduled reports",
    "the calendar sync",
    "two-factor login",
    "the search filters",
    "PDF invoices",
    "offline mode",
    "the REST API",
    "role permissions",
    "the dashboard widgets",
]
DOC_HOSTS = [
    "docs.northwind.example",
    "help.ledgerly.example",
    "wiki.example.org",
    "support.fleetwise.example",
    "github.com/acme/tools",
    "readthedocs.example.io",
    "kb.tutora.example",
    "learn.gridline.example",
]
SHOP_HOSTS = [
    "get.stackpilot.example",
    "shop.pantrio.example",
    "try.beaconcrm.example",
    "offers.harvestly.example",
    "go.parcelio.example",
    "deals.shelfie.example",
    "join.emberly.example",
    "promo.kettle.example",
]
CODES = ["SAVE20", "SPRING50", "WELCOME10", "LAUNCH30", "VIP15", "FLASH40", "EARLYBIRD", "FRIENDS25"]
EMOJI_PROMO = ["🚀", "🔥", "💥", "✅", "👉", "💰", "⚡", "🎉"]
EMOJI_ANY = ["🙂", "🙏", "👍", "😅", "🎉", "👀", "🤔", "❤️"]

# -- sentences: promotional ---------------------------------------------------------------

PROMO: dict[str, list[str]] = {
    "loud_discount": [
        "{pct}% off {product} this week only!",
        "FLASH SALE: every {product} plan is {pct}% off until [Friday|Sunday|midnight]!!",
        "Use code {code} at checkout for {pct}% off your first [order|year|three months].",
        "[Huge|Massive|Crazy] discount on {product} right now, [grab it|get in] before it ends",
        "Black Friday came early: {product} from just ${price}/month.",
        "Only {n} licences left at the launch price of ${price}, [don't miss out|last chance]!",
        "Get {product} for ${price} a seat, that's {pct}% cheaper than [anyone else|the big guys].",
        "Limited-time bundle: {product} plus onboarding for ${price}. Offer ends [Friday|soon|tonight].",
        "Buy one year, get [three|six] months free. Today only.",
        "Our summer sale is live, up to {pct}% off [everything|all plans|the whole range] 🔥",
        "Prices go up on the 1st, lock in ${price}/mo now.",
        "Flash deal for this community: {pct}% off with code {code}.",
        "Free shipping and {pct}% off our new [range|collection|starter kit] this weekend only.",
        "SALE SALE SALE {product} {pct}% OFF",
        "Early-bird pricing ends [Sunday|tomorrow], save ${price} on the annual plan.",
        "Members here get an exclusive {pct}% discount on {product}, just mention this post.",
    ],
    "demo_cta": [
        "Book a demo and see {product} in action.",
        "[Grab|Book|Schedule] a 20-minute demo here: {shop_url}",
        "Want to see how it works? Book a call with our team this week.",
        "Request your free demo of {product} today.",
        "Click the link to schedule a personalised walkthrough of {product}.",
        "[Happy|Glad] to give anyone here a free demo, just book a slot on my calendar.",
        "Sign up now for a 14-day free trial, no card needed.",
        "Start your free trial of {product} and [cut|slash] your {usecase} time in half.",
        "See why {n} teams switched to {product}, book your demo now.",
        "Try {product} free for 30 days, [then|after that] just ${price}/month.",
        "Let's hop on a quick call so I can show you what {product} can do for {usecase}.",
        "Get started today at {shop_url}",
    ],
    "subtle_dm": [
        "Drop me a DM for our rate card.",
        "If anyone needs help with {usecase}, my DMs are open 😉",
        "DM me if you'd like our pricing sheet.",
        "Happy to share how we helped teams like yours, my calendar link is in bio.",
        "Ping me privately and I'll send over our packages.",
        "We do this for a living, so feel free to reach out if you want it handled for you.",
        "If that sounds like your team, my inbox is open.",
        "Shoot me a message and I'll tell you what we'd charge for something like that.",
        "I've got a short deck on how we approach {usecase}, happy to send it over if you DM me.",
        "Anyone struggling with this, let's chat, we've solved it for a dozen {industry} firms.",
        "Message me for a no-obligation quote.",
        "We still have capacity this quarter if anyone needs a hand with {usecase}, just message me.",
        "Link to book time with me is on my profile.",
        "Our team has a few hours free next month, reach out if you want us to take {usecase} off your plate.",
        "Curious what it would cost for your setup? Send me a DM and I'll put numbers together.",
        "I'm happy to jump on a call and walk you through our approach, no strings.",
    ],
    "pilot_slots": [
        "We have a few pilot slots left for {industry} teams this quarter.",
        "We're onboarding {n} more design partners, apply at {shop_url}",
        "Looking for {n} {industry} companies to join our beta, founding customers get lifetime pricing.",
        "Only {n} spots left in our early access programme for {product}.",
        "We're opening our pilot to a handful of teams who want to fix {usecase}, interested?",
        "Accepting applications for our founding-customer cohort, pricing locked forever.",
        "Last {n} places in the {product} pilot, first come first served.",
        "We're selecting a few {industry} businesses for a free pilot of {product}, comment below to be considered.",
        "Our early access list closes [Friday|soon], get on it if you want priority onboarding.",
        "Want to be one of our launch partners? We're taking {n} more.",
    ],
    "affiliate": [
        "Use my referral link and we both get a free month: {ref_url}",
        "I earn a small commission if you sign up through {ref_url} but honestly it's worth it.",
        "Get ${price} credit with my code {code}!",
        "Sign up with my link ({ref_url}) for an extra {pct}% off.",
        "Link in bio for the deal 👆",
        "Affiliate link below, it supports my channel: {ref_url}",
        "Here's my invite code for {product}, you get {pct}% off your first box: {code}",
        "Become a {product} ambassador and earn {pct}% on every referral!",
        "Shop the full list here (affiliate links): {ref_url}",
        "Join through my link and I'll throw in my setup templates for free: {ref_url}",
        "My partner code {code} still works for [new|first-time] customers.",
    ],
    "recruit_sales": [
        "We're hiring resellers! Earn {pct}% commission selling {product} to {industry} businesses.",
        "Looking for partners to resell our {usecase} solution, generous margins.",
        "Want to make extra income? Become an independent {product} consultant, no experience needed.",
        "Agencies: join our partner programme and earn recurring revenue on every client you bring.",
        "We're recruiting brand ambassadors, free product plus commission.",
        "Side hustle alert: sell {product} to your network and keep {pct}% of every sale.",
        "Join our channel partner programme and get {pct}% off for your clients plus a referral fee.",
        "Now hiring sales reps, uncapped commission, DM me to apply.",
    ],
    "cold_outreach": [
        "Hi {name}, hope you don't mind the direct message. We work with {company} and thought you might be interested too.",
        "Loved your post about {usecase}! We actually built something for that, mind if I send a short video?",
        "Hey {name}, we've got an idea that could save {company} a lot on {usecase}, free for a chat on {day}?",
        "Hi {name}, circling back on this, is {usecase} still a priority for your team this quarter?",
        "Congrats on the new role at {company}! When you're settled in I'd love to introduce our {usecase} service.",
        "I'd love to learn more about how {company} handles {usecase} today, and share what we're seeing at similar firms.",
        "Any chance you have 20 minutes on {day}? I think we could really help with {usecase}.",
        "We're speaking to a few {industry} leaders this month about {usecase}, would you like to be one of them?",
        "Hi {name}, I noticed your company is scaling its {usecase} team. Would you be open to a quick 15 minutes next week?",
        "I came across your profile and thought {product} might be a fit for {company}.",
        "Are you the right person to talk to about {usecase} at {company}?",
        "Saw that {company} just raised, congrats! We help teams like yours with {usecase}, worth a chat?",
        "Quick question {name}, who handles {usecase} decisions on your side?",
        "I'll keep this short: we cut {usecase} costs by {pct}% for companies like {company}. Open to a call Thursday?",
        "Following up on my last message, did you get a chance to look at our proposal?",
        "Would it make sense to connect for 15 minutes to see if we can help with {usecase}?",
        "I noticed you're hiring a {role}, we can take that work off your plate for a fraction of the cost.",
        "Reaching out because {company} looks like a great fit for our {usecase} service.",
        "Not sure if this is on your radar, but we've been helping {industry} firms like yours save hours on {usecase}.",
        "Let me know a good time this week for a brief intro call.",
    ],
    "webinar_funnel": [
        "Join our free webinar on {usecase} on {day}, attendees get {pct}% off {product}!",
        "Register now for our masterclass: '{n} secrets to better {usecase}'. Seats are limited.",
        "Free live training this {day}: how {product} transforms {usecase}. Save your seat: {shop_url}",
        "In our upcoming webinar we'll reveal how our clients doubled revenue, register today.",
        "Webinar alert 🚨 learn how {product} saves {industry} teams {n} hours a week. Link in comments.",
        "Only {n} seats left for our free {usecase} workshop, special offer for attendees.",
        "Sign up for our 3-day challenge and get our premium toolkit at {pct}% off.",
        "Download our free ebook on {usecase} (just enter your work email) and get a consultation.",
        "Our free {usecase} audit is open for {n} more businesses, claim yours.",
        "Attend the live demo-webinar and get an exclusive discount code.",
    ],
    "vendor_comparison": [
        "Thinking of renewing {product2}? Talk to us first, we'll beat the quote.",
        "Full feature-by-feature breakdown of {product} against {product2} on our site, guess who comes out on top.",
        "{product2} customers get their first year of {product} at {pct}% off, just send us your current invoice.",
        "We're biased, obviously, but {product} is the better pick for {usecase}. Happy to prove it on a call.",
        "Comparison guide: {product} vs {product2} vs spreadsheets. Written by our team, download free.",
        "Any {product2} users here frustrated with {feature}? We fixed that in {product}, come try it.",
        "If you're evaluating {product2}, add us to the shortlist, we'll give you a sandbox and a discount.",
        "We win {pct}% of head-to-head trials against {product2}. Ask me for the trial pack.",
        "{product} vs {product2}: we're {n}x faster and half the price. Switch today, we'll migrate you free.",
        "Tired of {product2}'s pricing? Our platform does everything it does for less.",
        "Unlike {product2}, our solution actually works out of the box. See for yourself with a free trial.",
        "Here's an honest comparison of us vs {product2} (spoiler: we win on every metric).",
        "Switching from {product2}? We'll match your contract and give you three months free.",
        "Why leading {industry} teams are leaving {product2} for {product}, full breakdown on our blog.",
        "We built {product} because {product2} was too slow. Come see the difference.",
        "Still paying for {product2}? Let us show you how much you'd save with {product}.",
    ],
    "agency_pitch": [
        "Our agency specialises in {usecase} for {industry} brands, we'd love to help.",
        "We help {industry} companies grow with done-for-you {usecase}.",
        "At {company} we offer end-to-end {usecase} services, check out our portfolio at {shop_url}",
        "Our team delivers {usecase} projects in half the time, results guaranteed.",
        "We've helped {n}+ clients scale their {usecase}, you could be next.",
        "Need more leads? Our proven system generates {n} qualified appointments a month.",
        "Our consultancy can audit your {usecase} and find savings in two weeks, fixed fee of ${price}.",
        "We build custom solutions for {usecase}, get in touch for a free consultation.",
        "Outsource your {usecase} to us and focus on what matters.",
        "Let our certified experts handle your {usecase} from start to finish.",
        "We guarantee a {pct}% improvement in {usecase} or your money back.",
        "Our product helps {industry} teams automate {usecase}, fully set up in a day.",
    ],
    "consumer_push": [
        "Our new [vegan|organic|handmade] [skincare|snack|coffee] range just dropped, order now at {shop_url} 🛒",
        "Treat yourself! Our bestselling [hoodie|candle|backpack] is back in stock.",
        "Limited edition [sneakers|mugs|prints] available now, only {n} made.",
        "Subscribe and save {pct}% on every delivery.",
        "Tag a friend who needs this, and shop the collection via the link.",
        "New flavour alert! Get yours before they sell out.",
        "Our family-run bakery now ships nationwide, order by {day} for weekend delivery.",
        "Gift cards available now, the perfect present for the {industry} professional in your life.",
    ],
}

# -- sentences: community -----------------------------------------------------------------

COMMUNITY: dict[str, list[str]] = {
    "honest_comparison": [
        "We trialled {product} and {product2} for {usecase}. {product} was easier to set up, {product2} had better reporting.",
        "Honest take after a year on {product}: great for {usecase}, weak on {feature}. {product2} is the reverse.",
        "Has anyone compared {product} and {product2} for {usecase}? We're torn.",
        "We moved from {product2} to {product} last spring. Migration took two weeks, mostly because of {feature}.",
        "For what it's worth, {product2} was cheaper for us but support was slower.",
        "Pros of {product}: {feature}, decent API. Cons: pricing jumps once you pass {n} users.",
        "We ended up sticking with {product2}; the switching cost wasn't worth it for a team our size.",
        "I like {product} for {usecase} but I'd check {product2} too if you need {feature}.",
        "Both are fine honestly. {product} if you want simple, {product2} if you need every knob.",
        "Our experience with {product} for {usecase} was mixed, the onboarding was great but {feature} kept breaking.",
    ],
    "pricing_question": [
        "Why is {feature} only on the top plan? Seems like a basic thing.",
        "Did anyone get a refund after cancelling mid-year? Their terms aren't clear.",
        "What happens to our data if we downgrade to the free plan?",
        "Is the price per user or per active user? Big difference for us with seasonal staff.",
        "We got a quote for {product}; is ${price} per seat per month in line with what you pay?",
        "Do resellers get better prices than buying direct? Our IT partner is pushing us to buy through them.",
        "Does anyone know if the per-seat licence covers contractors?",
        "How much does the enterprise plan cost roughly? The pricing page just says 'contact us'.",
        "Is there a nonprofit discount for {product}? We're a small charity.",
        "Quick licensing question: can we run {product} on two servers with one licence?",
        "Has anyone negotiated a multi-year deal with {product2}? Curious what discount is realistic.",
        "Is the {pct}% education discount still a thing or did they drop it?",
        "What are people paying per month for {usecase} tools these days? Trying to budget for next year.",
        "Does the free tier include {feature} or is that paid only?",
        "Our renewal quote went up {pct}%, is that normal for {product}?",
        "Can someone explain how the usage-based pricing works? The invoice confused our finance team.",
        "Is it cheaper to pay annually or monthly for {product}? The calculator on the site is broken.",
        "Are API calls billed separately from seats?",
    ],
    "release_note": [
        "Fixed in {version}: {feature} no longer times out on large files. Thanks to everyone who reported it.",
        "We shipped {feature} today. Release notes: {doc_url}",
        "Heads up: {version} is out with a fix for the {feature} bug a few of you hit last week.",
        "The {feature} issue from Tuesday is resolved, root cause was a bad config push on our side. Sorry about that.",
        "Small update from the product team: {feature} now respects your time zone.",
        "We rolled back yesterday's change to {feature} after your reports, the old behaviour is back.",
        "Known issue: {feature} shows the wrong totals for some accounts. We're on it and will post here when it's fixed.",
        "{version} changelog: faster {feature}, two security fixes, and the export bug is gone.",
        "Maintenance window {day} 02:00–03:00 UTC, {feature} will be read-only for about 20 minutes.",
        "Thanks for the feedback on {feature}, we've changed the default based on this thread.",
        "The mobile app update with {feature} is rolling out gradually over the next few days.",
        "Deprecation notice: the old {feature} endpoint goes away in {version}, the docs explain the replacement.",
    ],
    "meetup": [
        "The {city} user group meets {day} at 6pm, two short talks and pizza. Everyone welcome, it's free.",
        "Anyone in {city} fancy a meetup? Thinking drinks and informal chat about {usecase}.",
        "Slides and recording from last night's {city} meetup are up: {doc_url}",
        "Call for speakers: the {city} {industry} meetup is looking for 10-minute talks on {usecase}.",
        "Reminder: community call {day}, agenda in the thread, bring your questions about {feature}.",
        "We're organising a hack day in {city} on {day}, no sales pitches, just people fixing things.",
        "Thanks to everyone who came to the {city} meetup! Great turnout and great questions.",
        "Local {industry} folks: we're starting a monthly breakfast in {city} to swap notes on {usecase}.",
        "The next user-group session is {day}, topic is {usecase}. Sign-up sheet is pinned so we know how much coffee to get.",
        "Our {city} chapter is looking for a new venue, any offices willing to host 30 people?",
    ],
    "docs_link": [
        "The docs cover this here: {doc_url}",
        "There's a good guide on {usecase} in the official docs: {doc_url}",
        "See the FAQ, it explains the limits on {feature}: {doc_url}",
        "Documentation for the new {feature} is at {doc_url}",
        "This page helped me with the same error: {doc_url}",
        "The API reference lists every field: {doc_url}",
        "Found the answer in the knowledge base, linking it for the next person: {doc_url}",
        "RTFM moment for me, it's in section 4 of the admin guide ({doc_url}).",
    ],
    "howto": [
        "Pro tip: pin the filters you use most, it saves a lot of clicking in {feature}.",
        "If the import fails silently, check the date format, it wants YYYY-MM-DD.",
        "We solved it by giving each site its own template and a shared naming rule.",
        "Took me a while, but the answer was to turn {feature} off and on again after changing the region.",
        "You can get the raw data through the API and load it into a spreadsheet, here's the call we use.",
        "For {usecase}, start with the built-in template and only customise once you know what's missing.",
        "To set up {feature}, go to Settings > Integrations, paste the key and hit save.",
        "Tip: if {feature} is slow, turn off auto-refresh and filter by date first.",
        "Here's how we handle {usecase}: a shared sheet, a weekly review and a single owner per site.",
        "You can bulk-import by saving as UTF-8 CSV first, otherwise the accents break.",
        "Workaround until it's fixed: export to CSV, edit, and re-import with 'update existing' ticked.",
        "Step 1: create a service account. Step 2: give it read access. Step 3: point {feature} at it.",
        "If anyone else is doing {usecase}, batch the jobs overnight, it halved our error rate.",
        "Run `sync --dry-run` first so you can see what it will change.",
        "What worked for us: start with one depot, get {usecase} right there, then roll out.",
        "Make sure the time zone on the account matches the server or {feature} drifts by an hour.",
        "You need admin rights to see that menu, ask whoever owns the account.",
        "Clear the cache and log back in, that fixed {feature} for me.",
    ],
    "bug_report": [
        "Getting a 500 error when I use {feature} on {product}, anyone else?",
        "Bug: {feature} duplicates rows when the file has more than {n} lines.",
        "Since the last update {feature} doesn't load on Safari. Steps: log in, open reports, click export.",
        "Is {feature} down for anyone else or just us?",
        "The {feature} page shows yesterday's data even after refreshing. Ticket #{n} raised.",
        "Found a bug in {usecase} sync: records with an apostrophe in the name get skipped.",
        "Not sure if it's a bug but {feature} ignores the filters I set.",
        "Login loop after enabling {feature}, cleared cookies, still stuck.",
        "{product} crashed twice today during {usecase}, attaching the log in case it helps.",
        "The numbers in the monthly report don't match the dashboard, off by about {pct}%.",
    ],
    "thanks": [
        "Thanks @{handle} for the help yesterday, that fixed it!",
        "Huge thanks to whoever wrote the guide on {usecase}, saved me a day.",
        "Shout-out to the support team, they sorted our {feature} issue in an hour.",
        "This community is great, thanks all for the answers.",
        "Cheers {name}, your tip about {feature} worked perfectly.",
        "Thank you everyone who voted for {feature}, glad to see it shipped.",
        "Appreciate the quick replies, we're up and running now.",
        "Just wanted to say thanks for the warm welcome, first week here and I've learnt loads.",
    ],
    "job_news": [
        "Personal news: I've started as {role} at {company}! Still around here, same handle.",
        "After six years I'm leaving {company}. Thanks to everyone in this group for the help over the years.",
        "Excited to share that I joined {company} as {role} this week.",
        "I'm moving from {usecase} into a {role} role, so expect fewer questions from me about {feature} 😅",
        "Back from parental leave, catching up on the threads.",
        "Retiring at the end of the month, it's been a pleasure learning from you all.",
        "I've been promoted to {role}, which mostly means more spreadsheets.",
        "New job, same industry: I'm at {company} now, happy to keep helping with {usecase} questions.",
    ],
    "nostake_recommendation": [
        "We've used {product} for two years for {usecase}, no affiliation, just a happy customer.",
        "Not affiliated, but {product} solved this for us.",
        "I'd recommend {product} for {usecase}; it's not perfect but support is responsive.",
        "We use {product} and like it. Happy to answer questions about our setup.",
        "Seconding {product}, we tried three others and it was the only one our warehouse team actually used.",
        "My team swears by {product} for {usecase}, though it took a while to learn.",
        "If budget is tight, {product} has a decent free tier that covered us for a year.",
        "We're a customer, not a reseller: {product} has been solid for {usecase}.",
        "Have a look at {product}, a friend's company uses it for {usecase} and rates it.",
    ],
    "oss_script": [
        "I wrote a small script to automate {usecase}, MIT licensed, free on GitHub: {doc_url}",
        "Sharing a spreadsheet template we use for {usecase}, free to copy.",
        "Open-sourced our {feature} exporter, PRs welcome: {doc_url}",
        "Made a tiny browser extension that fixes the {feature} layout, free, no tracking.",
        "Here's the SQL query we use for the {usecase} report, adapt as you like.",
        "Our internal checklist for {usecase}, sharing in case it's useful to anyone.",
        "Put together a Python snippet that pulls data from the {product} API, gist here: {doc_url}",
        "DM me if you want the macro, it's free, just don't want to post company paths publicly.",
    ],
    "vendor_rec_request": [
        "Can anyone recommend a vendor for {usecase}? Mid-size {industry} company, budget is modest.",
        "Looking for recommendations: who do you use for {usecase}?",
        "We need a partner to help with {usecase}, any agencies you've had good experiences with?",
        "What tools are people using for {usecase} in {industry}? Ours is end-of-life.",
        "Any consultants you'd trust for a {usecase} review? Happy to pay, just want someone honest.",
        "Is {product} worth it or should we build our own for {usecase}?",
        "Which {usecase} providers should we shortlist? We've heard of {product} and {product2}.",
        "Recommendations for a good accountant who understands {industry}?",
    ],
    "discussion": [
        "Do you let your sales team post in the community, or keep them out? Curious how others draw the line.",
        "How do you all decide when to buy a tool versus build it in-house?",
        "What's the most useful report you've built for {usecase}?",
        "We're debating whether to publish our pricing on the website. Anyone done that and regretted it?",
        "Has anyone measured whether {feature} actually saves time, or does it just feel faster?",
        "I'm curious how much of your budget goes on {usecase} software versus people.",
        "Any good books or podcasts on {usecase}? Looking for something practical.",
        "What's the best thing a vendor has done for you this year? Mine fixed a bug within a day of my post here.",
        "How are other {industry} teams handling {usecase} with fewer staff this year?",
        "Unpopular opinion: most {usecase} problems are process problems, not tool problems.",
        "What's one thing you wish you'd known before rolling out {feature}?",
        "Interesting article on {usecase} trends, curious what people here think: {article_url}",
        "We're running a retro on our {usecase} rollout, what should we ask?",
        "Feature idea: let us pin reports to the home page. Would others use that?",
        "Does anyone have a good way to train new starters on {usecase}?",
        "Our {role} asked for a business case for {usecase} automation. How did you justify yours?",
        "Poll: do you run {usecase} in-house or outsource it?",
        "After the outage last week we've started a runbook. Happy to compare notes with anyone.",
        "I gave a talk on our {usecase} mistakes at the {city} meetup, the recording is on the community page.",
        "Anyone going to the {industry} expo in {city}? Would be nice to meet some of you in person.",
    ],
}


# -- compositional parts: a post built as hook + offer + ask (promotional) or situation +
# ask + closer (community). Every list is split between the families like the rest.

PROMO_HOOKS = [
    "Struggling with {usecase}?",
    "Still doing {usecase} by hand?",
    "If {usecase} is eating your week,",
    "Most {industry} teams waste hours on {usecase}.",
    "Sick of {product2} price hikes?",
    "Is {usecase} holding your team back?",
    "Quick one for anyone in {industry}:",
    "{usecase} doesn't have to be painful.",
    "Here's a secret most {industry} firms miss:",
    "What if {usecase} took minutes instead of days?",
    "Every {role} I talk to says the same thing about {usecase}.",
    "Your competitors already automated {usecase}.",
    "Spending too much on {usecase}?",
    "Ever wished {usecase} just worked?",
    "Real talk for {industry} owners:",
    "Attention {role}s!",
    "We kept hearing the same complaint about {usecase}.",
    "Big announcement for the {industry} crowd!",
    "Imagine never worrying about {usecase} again.",
    "Running a {industry} business is hard enough.",
]
PROMO_OFFERS = [
    "we built {product} to fix exactly that",
    "our team can take it off your plate",
    "we've helped {n} {industry} teams cut it by {pct}%",
    "{product} automates the whole thing",
    "our service handles it end to end for a flat monthly fee",
    "we offer a done-for-you package starting at ${price}",
    "I put together a programme that solves it in {n} weeks",
    "our consultants sort it out in a fortnight",
    "we have a tool that pays for itself in the first month",
    "my company specialises in exactly this",
    "our clients typically save {pct}% in year one",
    "{product} plugs straight into what you already use",
    "we can set you up by {day}",
    "our new {usecase} package is now available",
    "I've got a proven framework for it",
    "we just launched a plan built for teams your size",
    "our experts have done this for {n}+ companies",
    "we do it cheaper and faster than {product2}",
    "we'll handle the migration at no cost",
    "you can outsource it to us for less than a junior hire",
]
PROMO_ASKS = [
    "DM me and I'll send details.",
    "Grab a slot on my calendar.",
    "Link in bio.",
    "Reply 'yes' and I'll send the info.",
    "Happy to send over pricing.",
    "First month is on us.",
    "Message me for a quote.",
    "Let's talk this week.",
    "Book your spot: {shop_url}",
    "Comment 'INFO' below.",
    "Check us out: {shop_url}",
    "Details in my profile.",
    "Shoot me an email for the rate card.",
    "Get in touch for a free consultation.",
    "Only {n} slots left this month.",
    "Ask me about the intro offer.",
    "We can start Monday, just say the word.",
    "Free trial here: {shop_url}",
    "Let me know if you'd like a walkthrough.",
    "Would love to show you, when suits?",
    "Inbox me for the brochure.",
    "Try it free: {shop_url}",
    "Contact us today.",
    "Call me, number's on our site.",
]
COMMUNITY_SITUATIONS = [
    "We're rolling out {product} for {usecase}.",
    "Our team has used {product} for about a year.",
    "I'm new to {usecase} and inherited a messy setup.",
    "We just upgraded to {version}.",
    "Our {role} wants to replace our {usecase} process.",
    "We're a small {industry} shop with no IT person.",
    "Last week we had a problem with {feature}.",
    "I've been reading the threads on {usecase}.",
    "We're moving our {usecase} off spreadsheets.",
    "Our contract with {product} is up for renewal.",
    "I support about {n} users on {product}.",
    "We tried {product} for {usecase} last quarter.",
    "I'm writing our internal guide for {feature}.",
    "We had an audit last month that touched {usecase}.",
    "Our {industry} customers keep asking about {feature}.",
    "I'm on the {product} team and saw this thread.",
    "Been wrestling with {feature} all morning.",
    "We're planning the next community meetup in {city}.",
    "My manager asked me to look into {usecase} options.",
    "We merged with {company} and now have two systems.",
]
COMMUNITY_ASKS = [
    "Has anyone else run into {feature} not saving?",
    "How do you handle {usecase} across time zones?",
    "Is there a way to schedule {feature} weekly?",
    "Which plan includes {feature}?",
    "What did your rollout timeline look like?",
    "Any gotchas we should know about?",
    "How did you get buy-in from the {role}?",
    "Is it worth upgrading or should we wait?",
    "The docs say one thing and the app does another, am I missing something?",
    "Would anyone be up for comparing notes on a call? Not selling anything, just curious.",
    "Does the licence cover test environments?",
    "What are you paying per seat, roughly?",
    "I posted the steps that worked for us below.",
    "The fix was to re-authorise the integration.",
    "Turns out it was a permissions issue on our side.",
    "We ended up writing a small script, happy to share it.",
    "I've raised a ticket and will update here.",
    "We compared three options and went with the cheapest.",
    "Can someone from support confirm?",
    "What's the best practice here?",
    "Is the price on the website per month or per year?",
    "Did the last update change how {feature} works?",
    "Should we ask the vendor for a discount at renewal?",
    "What would you do differently?",
]
COMMUNITY_CLOSERS = [
    "Thanks in advance!",
    "Any pointers appreciated.",
    "Cheers.",
    "I'll report back.",
    "Hope that helps someone.",
    "No rush.",
    "Thanks for reading.",
    "Happy to share our notes.",
    "Grateful for any advice.",
    "Will update the thread.",
    "Thanks all.",
    "Sorry for the long post.",
    "Curious what others think.",
    "Let me know if you want the details.",
    "DM me if you want our config, happy to share.",
    "Message me and I'll send you the file, no charge.",
    "Feel free to ping me with questions.",
    "Link to my write-up is in my profile if useful.",
    "Happy to jump on a call if anyone's stuck, no pitch.",
    "Our notes are free to copy.",
]

# Lines that fit either label, so that neither label owns them.
OPENERS = [
    "Hi all,",
    "Hey everyone!",
    "Hello,",
    "Morning folks.",
    "hi",
    "Hi team,",
    "Good afternoon,",
    "Hey {name},",
    "Long-time lurker, first post.",
    "Quick one:",
    "Hope everyone's well.",
    "Hello community 👋",
    "Happy Friday!",
    "Greetings from {city}.",
    "Hi there,",
    "Evening all,",
]
CONTEXT = [
    "We're a {n}-person {industry} company in {city}.",
    "I run {usecase} for a mid-size {industry} business.",
    "Context: {company}, about {n} staff, mostly {industry}.",
    "Been in {industry} for about {n} years now.",
    "We work with a lot of {industry} clients.",
    "Our team handles {usecase} across three sites.",
    "I look after {usecase} at {company}.",
    "This came up in our Monday stand-up.",
    "Most of our customers are in {industry}.",
    "Background: we grew quickly last year and {usecase} didn't keep up.",
]
SIGNOFFS = [
    "Thanks!",
    "Cheers,",
    "Thanks in advance.",
    "— {name}",
    "Best, {name}",
    "Any thoughts welcome.",
    "ty",
    "Have a good weekend!",
    "{name} from {company}",
    "Kind regards,",
    "Cheers {name}",
    "Speak soon.",
]


from convenor.charter.corpus.more import (  # noqa: E402  (after the lists it extends)
    ITEMS,
    MORE_COMMUNITY,
    MORE_COMMUNITY_ASKS,
    MORE_COMMUNITY_CLOSERS,
    MORE_COMMUNITY_SITUATIONS,
    MORE_COMPANIES,
    MORE_INDUSTRIES,
    MORE_NAMES,
    MORE_PRODUCTS,
    MORE_PROMO,
    MORE_PROMO_ASKS,
    MORE_PROMO_HOOKS,
    MORE_PROMO_OFFERS,
    SERVICES,
)

INDUSTRIES.update(MORE_INDUSTRIES)
PRODUCTS += MORE_PRODUCTS
NAMES += MORE_NAMES
COMPANIES += MORE_COMPANIES
PROMO.update(MORE_PROMO)
COMMUNITY.update(MORE_COMMUNITY)
PROMO_HOOKS += MORE_PROMO_HOOKS
PROMO_OFFERS += MORE_PROMO_OFFERS
PROMO_ASKS += MORE_PROMO_ASKS
COMMUNITY_SITUATIONS += MORE_COMMUNITY_SITUATIONS
COMMUNITY_ASKS += MORE_COMMUNITY_ASKS
COMMUNITY_CLOSERS += MORE_COMMUNITY_CLOSERS


def read_seeds() -> list[dict[str, str]]:
    path = HERE / "seeds.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Builder:
    """Expands templates for one family ("train" or "heldout") with one random generator."""

    def __init__(self, family: str, seed: int) -> None:
        self.rng = random.Random(f"{seed}-{family}")
        self.family = family
        f = family
        self.industries = {k: split(v, f) for k, v in INDUSTRIES.items()}
        self.products = split(PRODUCTS, f)
        self.companies = split(COMPANIES, f)
        self.names = split(NAMES, f)
        self.cities = split(CITIES, f)
        self.days = split(DAYS, f)
        self.roles = split(ROLES, f)
        self.features = split(FEATURES, f)
        self.doc_hosts = split(DOC_HOSTS, f)
        self.shop_hosts = split(SHOP_HOSTS, f)
        self.codes = split(CODES, f)
        self.items = split(ITEMS, f)
        self.services = split(SERVICES, f)
        self.promo = {k: split(v, f) for k, v in PROMO.items()}
        self.promo_parts = [split(PROMO_HOOKS, f), split(PROMO_OFFERS, f), split(PROMO_ASKS, f)]
        self.community_parts = [split(COMMUNITY_SITUATIONS, f), split(COMMUNITY_ASKS, f), split(COMMUNITY_CLOSERS, f)]
        self.community = {k: split(v, f) for k, v in COMMUNITY.items()}
        if family == "train-fit":
            # The hand-written seeds join the training family only, dressed like the rest.
            for row in read_seeds():
                table = self.promo if row["label"] == "promotional" else self.community
                table.setdefault("handwritten", []).append(row["text"].replace("{", "(").replace("}", ")"))
        # A category too small to have items in this family is left out of it.
        self.promo = {k: v for k, v in self.promo.items() if v}
        self.community = {k: v for k, v in self.community.items() if v}
        self.openers = split(OPENERS, f)
        self.context = split(CONTEXT, f)
        self.signoffs = split(SIGNOFFS, f)

    def pick(self, items: list[str]) -> str:
        return items[self.rng.randrange(len(items))]

    def slug(self) -> str:
        words = ["guide", "pricing", "setup", "release-notes", "faq", "report", "blog/post", "tools", "v2", "help"]
        return "/".join(self.rng.sample(words, self.rng.randint(1, 2)))

    def fill(self, template: str, industry: str) -> str:
        rng = self.rng
        template = re.sub(r"\[([^\[\]]+)\]", lambda m: self.pick(m.group(1).split("|")), template)
        products = rng.sample(self.products, 2)
        slots: dict[str, Callable[[], str]] = {
            "product": lambda: products[0],
            "product2": lambda: products[1],
            "company": lambda: self.pick(self.companies),
            "company2": lambda: self.pick(self.companies),
            "item": lambda: self.pick(self.items),
            "service": lambda: self.pick(self.services),
            "name": lambda: self.pick(self.names),
            "handle": lambda: self.pick(self.names).lower() + self.pick(["", "_", ".k", "99", "_ops"]),
            "city": lambda: self.pick(self.cities),
            "day": lambda: self.pick(self.days),
            "role": lambda: self.pick(self.roles),
            "feature": lambda: self.pick(self.features),
            "industry": lambda: industry,
            "usecase": lambda: self.pick(self.industries[industry]),
            "pct": lambda: str(rng.choice([10, 15, 20, 25, 30, 40, 50, 60, 70])),
            "price": lambda: str(rng.choice([9, 19, 29, 49, 99, 199, 499, 12, 39, 79])),
            "n": lambda: str(rng.choice([2, 3, 4, 5, 8, 10, 12, 20, 40, 50, 100, 250])),
            "code": lambda: self.pick(self.codes),
            "version": lambda: f"{rng.randint(1, 9)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
            "doc_url": lambda: f"https://{self.pick(self.doc_hosts)}/{self.slug()}",
            "article_url": lambda: f"https://news.example.com/{self.slug()}",
            "shop_url": lambda: self._shop_url(),
            "ref_url": lambda: (
                f"https://{self.pick(self.shop_hosts)}/?ref={self.pick(self.names).lower()}{rng.randint(1, 99)}"
            ),
        }
        text = re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)](), template)
        if "$" in template and rng.random() < 0.4:
            # Prices in other currencies too, in both labels.
            currency = rng.choice(["£", "€"])
            text = re.sub(r"\$(?=\d)", currency, text)
        return text

    def _shop_url(self) -> str:
        url = f"https://{self.pick(self.shop_hosts)}/{self.slug()}"
        if self.rng.random() < 0.4:
            url += f"?utm_source={self.pick(['community', 'linkedin', 'forum', 'newsletter'])}&utm_medium=post"
        return url

    # -- assembly

    def post(self, label: str) -> tuple[str, str]:
        rng = self.rng
        table = self.promo if label == "promotional" else self.community
        industry = self.pick(sorted(self.industries))
        if rng.random() < 0.3:
            parts, key = self.composed(label, industry)
            return self.dress(parts, label), f"generated:{self.family}:composed:{key}"
        category = self.pick(sorted(table))
        length = rng.choices([1, 2, 3, 5], weights=[35, 30, 22, 13])[0]
        first = rng.randrange(len(table[category]))
        sentences = [self.fill(table[category][first], industry)]
        for _ in range(length - 1):
            # Mostly the same intent, sometimes a neighbouring one of the same label.
            cat = category if rng.random() < 0.75 else self.pick(sorted(table))
            sentences.append(self.fill(self.pick(table[cat]), industry))
        if label == "promotional" and category in {"agency_pitch", "vendor_comparison", "cold_outreach"}:
            # A pitch that is mostly description, with the ask at the end.
            rng.shuffle(sentences)
        if rng.random() < 0.3:
            sentences.insert(0, self.fill(self.pick(self.context), industry))
        if rng.random() < 0.35:
            sentences.insert(0, self.fill(self.pick(self.openers), industry))
        if rng.random() < 0.3:
            sentences.append(self.fill(self.pick(self.signoffs), industry))
        sentences = list(dict.fromkeys(sentences))
        text = self.dress(sentences, label)
        return text, f"generated:{self.family}:{category}:{first}"

    def composed(self, label: str, industry: str) -> tuple[list[str], str]:
        """The parts of a composed post, and a key naming its main part (for grouping)."""
        rng = self.rng
        first, middle, last = self.promo_parts if label == "promotional" else self.community_parts
        k = rng.randrange(len(middle))
        key = f"{label[0]}{k}"
        if label == "promotional":
            offer = self.fill(middle[k], industry)
            head = self.fill(self.pick(first), industry)
            joined = f"{head} {offer[0].upper() + offer[1:] if head.endswith(('?', '.', '!', ':')) else offer}."
            parts = [joined.replace("..", "."), self.fill(self.pick(last), industry)]
            if rng.random() < 0.3:
                parts.insert(1, self.fill(self.pick(middle), industry).capitalize() + ".")
        else:
            parts = [self.fill(self.pick(first), industry), self.fill(middle[k], industry)]
            if rng.random() < 0.3:
                parts.append(self.fill(self.pick(middle), industry))
            if rng.random() < 0.6:
                parts.append(self.fill(self.pick(last), industry))
        if rng.random() < 0.3:
            parts.insert(0, self.fill(self.pick(self.openers), industry))
        return list(dict.fromkeys(parts)), key

    def dress(self, sentences: list[str], label: str) -> str:
        rng = self.rng
        if len(sentences) >= 4 and rng.random() < 0.5:
            cut = rng.randint(1, len(sentences) - 1)
            text = " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
        elif len(sentences) >= 3 and rng.random() < 0.15:
            text = sentences[0] + "\n\n" + "\n".join(f"- {s}" for s in sentences[1:])
        else:
            text = " ".join(sentences)
        r = rng.random()
        if r < 0.08:
            text = re.sub(r"\b(\w{4,})\b", lambda m: f"**{m.group(1)}**", text, count=1)
        if rng.random() < 0.15:
            text = text.lower()
        if rng.random() < 0.2:
            text = self.typos(text)
        if rng.random() < 0.15:
            pool = EMOJI_PROMO + EMOJI_ANY if label == "promotional" else EMOJI_ANY + EMOJI_PROMO[:3]
            text = f"{text} {self.pick(pool)}"
        if rng.random() < 0.1:
            text = f"@{self.pick(self.names).lower()} {text}"
        if rng.random() < 0.05:
            text = text.rstrip(".") + "!!"
        return text

    def typos(self, text: str) -> str:
        rng = self.rng
        words = text.split(" ")
        for i, w in enumerate(words):
            if len(w) > 4 and w.isalpha() and rng.random() < 0.08:
                k = rng.randrange(1, len(w) - 1)
                op = rng.random()
                if op < 0.4:
                    words[i] = w[:k] + w[k + 1 :]
                elif op < 0.8:
                    words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
                else:
                    words[i] = w[:k] + w[k] + w[k:]
        return " ".join(words)


def generate(family: str, n: int, seed: int = SEED) -> list[dict[str, str]]:
    """`n` distinct examples of one family, about 45% promotional, in a stable order."""
    b = Builder(family, seed)
    seen: set[str] = set()
    rows: list[dict[str, str]] = []
    attempts = 0
    while len(rows) < n and attempts < n * 20:
        attempts += 1
        label = "promotional" if b.rng.random() < 0.45 else "community"
        text, source = b.post(label)
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "label": label, "source": source})
    return rows


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    n_val = N_TRAIN // 5
    train = generate("train-fit", N_TRAIN - n_val) + generate("train-val", n_val)
    heldout = generate("heldout", N_HELDOUT)
    overlap = {r["text"] for r in train} & {r["text"] for r in heldout}
    heldout = [r for r in heldout if r["text"] not in overlap]
    write(HERE / "train.jsonl", train)
    write(HERE / "heldout.jsonl", heldout)
    print(f"train.jsonl: {len(train)} examples; heldout.jsonl: {len(heldout)} examples")


if __name__ == "__main__":
    main()
