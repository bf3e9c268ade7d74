#!/usr/bin/python3
"""Realistic data for mod_sdesk benchmarks: one generator, one bulk loader.

Used by tools/bench.py (every bench mode loads its data through it) and on
its own by `make bench-data N=1000000` (BENCH_BACKEND=sqlite|pgsql):

  tools/bench_data.py N [--backend sqlite|pgsql] [--out FILE] [--dsn DSN]

SQLite: writes FILE (default build/bench/sdesk-N.db) with the schema the
module's migrations create (sql/sqlite3/*.sql, recorded in schema_version),
then the rows in one transaction with prepared inserts (journal and sync off
during the load, secondary indexes and full-text triggers dropped and created
again afterwards, so the result is the migrations' schema exactly). The file
is in WAL mode, ready for `DBDParams`.

PostgreSQL: loads into DSN (default: a private cluster started in
build/bench/pgsql-N, left stopped afterwards) with COPY; indexes and foreign
keys are dropped during the load and created (validated) again; sequences
are moved past the loaded ids; ANALYZE at the end.

What is generated for N tickets: four tenants (north-hospital 80%,
south-clinic 8%, east-hospital 6%, west-clinic 6%), reporters from the test
directory (alice ~1% of north-hospital's tickets, bob, carol, dan) and 2,000
more per tenant, tickets over three years (about 10% active; resolved ones
younger than the auto-close window, the rest closed; SLA flags consistent with
the due times), 0-6 comments each (internal ones by agents), the audit trail
(created, assignee, status changes, escalations, comments), tier stints, N/20
known issues (2% global) and links from ~4% of the tickets to them. Text is
English and ~12% Russian, from the vocabulary of ward printers, scanners,
logins, PACS and network problems, so the suggestion index and full-text
search see realistic words. The same seed gives the same data.
"""

import io
import json
import os
import random
import sqlite3
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORTH, SOUTH = "north-hospital", "south-clinic"
TENANT_SHARES = ((NORTH, 0.80), (SOUTH, 0.08), ("east-hospital", 0.06), ("west-clinic", 0.06))
DAY = 86400
CHUNK = 20000           # tickets per batch (each batch: tickets, then their children)

# ---- vocabulary -------------------------------------------------------------------

WARDS = ["ward 3", "ward 5", "ward 7B", "ICU", "ER triage", "cardiology", "oncology day unit",
         "maternity", "radiology reception", "outpatient clinic 2", "pharmacy", "lab reception",
         "surgical ward 4", "pediatrics", "dialysis unit", "endoscopy", "admissions desk",
         "neurology", "orthopedics", "blood bank"]
WARDS_RU = ["приёмном отделении", "реанимации", "отделении кардиологии", "третьем отделении",
            "хирургии", "лаборатории", "регистратуре", "педиатрии", "рентгенологии",
            "аптеке", "поликлинике", "родильном отделении"]
PRINTERS = ["Zebra ZD421", "Zebra GK420d", "HP LaserJet M404", "Brother QL-820NWB",
            "Zebra ZD510 wristband printer", "Datamax label printer", "Kyocera ECOSYS M2540",
            "HP LaserJet M507"]
SCANNERS = ["Honeywell Xenon 1950g", "Zebra DS8178", "Zebra DS2208", "Fujitsu fi-7160",
            "Honeywell Voyager 1470g"]
APPS = ["EHR", "PACS viewer", "LIS", "RIS", "e-prescribing", "bed management",
        "the order entry module", "the nursing documentation module", "Outlook", "Citrix",
        "the theatre booking system", "the discharge module"]
DEVICES = ["workstation on wheels", "ward PC", "thin client", "nurse station PC", "tablet",
           "vital signs monitor", "infusion pump gateway", "medication cart"]
ERRORS = ["error 0x80070005", "HTTP 500", "timeout after 30 seconds", "\"session expired\"",
          "\"invalid credentials\"", "error 1326", "\"no printer selected\"",
          "\"license not available\"", "a white screen", "\"connection refused\""]

# (category, service, subject templates, description fragments)
PROBLEMS_EN = [
    ("device", "Printing", [
        "{printer} not printing labels on {ward}",
        "Label printer on {ward} prints blank labels",
        "Printer not printing specimen labels",
        "Labels come out shifted / cut off on {printer}",
        "{printer} offline on {ward}",
        "Printer on {ward} jams after every few labels",
    ], [
        "The label printer on {ward} stopped printing this morning.",
        "Labels come out blank although the job shows as printed.",
        "The {printer} shows a red light and does not print.",
        "Specimen labels print with the barcode cut off, the lab cannot scan them.",
        "We restarted the printer and changed the ribbon, no change.",
    ]),
    ("device", "Printing", [
        "Wristband printer jams on {ward}",
        "Cannot print wristband for admitted patient",
        "Wristbands print without barcode",
        "Wristband printer on {ward} prints faded text",
    ], [
        "The wristband printer jams on every second band.",
        "Patient wristbands print without the barcode, nurses cannot scan them at the bedside.",
        "We have to write wristbands by hand, this is a patient safety risk.",
        "The wristband printer was replaced last week and prints faded text since.",
    ]),
    ("device", "Devices", [
        "Barcode scanner on {ward} does not read wristbands",
        "{scanner} not scanning",
        "Scanner at {ward} not scanning documents into the chart",
        "Handheld scanner does not pair with {device}",
    ], [
        "The barcode scanner beeps but nothing appears in {app}.",
        "The {scanner} does not read patient wristbands, manual entry only.",
        "Document scanning into the patient chart fails with {error}.",
        "The scanner lost pairing after the Windows update.",
    ]),
    ("access", "Identity", [
        "Cannot login to EHR",
        "Cannot log in to {app} on {ward}",
        "Account locked after password change",
        "Password expired, cannot log in to {app}",
        "Smart card login fails on {device}",
        "No access to {app} after transfer to {ward}",
        "New starter has no {app} account",
    ], [
        "I cannot log in to {app}, it says {error}.",
        "My account was locked after I changed my password this morning.",
        "Smart card login fails on the {device} on {ward}.",
        "I moved to {ward} and cannot see my patients in {app}.",
        "Password reset did not help, still {error}.",
    ]),
    ("outage", "PACS", [
        "PACS images not loading",
        "PACS viewer very slow on {ward}",
        "CT images missing in PACS",
        "Cannot open X-ray images from {app}",
    ], [
        "PACS images do not load, the viewer stays on a white screen.",
        "Images from this morning's CT are not in PACS.",
        "Opening a study takes more than two minutes on {ward}.",
        "The radiologist cannot report, images fail with {error}.",
    ]),
    ("outage", "Network", [
        "Network down on {ward}",
        "Wi-Fi drops on {ward}",
        "No network on {device} on {ward}",
        "{app} very slow on {ward}",
        "Citrix disconnects every few minutes",
    ], [
        "The whole of {ward} has no network since 7:30.",
        "Wi-Fi keeps dropping, the {device} loses its session every few minutes.",
        "{app} takes a minute to open a patient, other wards are fine.",
        "Network cable unplugged message on the {device}.",
    ]),
    ("clinical-workflow", "EHR", [
        "Lab results not showing in EHR",
        "Medication order stuck in pending verification",
        "Discharge summary will not sign",
        "Allergies not shown on medication chart",
        "Vital signs from monitor not transferred to EHR",
        "Orders from {ward} not reaching pharmacy",
    ], [
        "Lab results for patients on {ward} do not appear in the EHR.",
        "Medication orders stay in pending verification for hours.",
        "The discharge summary cannot be signed, {error}.",
        "Vital signs from the bedside monitor are not transferred to the chart.",
        "The pharmacy does not receive orders from {ward}.",
    ]),
    ("bug", "EHR", [
        "{app} crashes when opening patient chart",
        "Error when saving vitals in {app}",
        "{app} shows wrong patient age",
        "Duplicate entries in the medication list",
    ], [
        "{app} crashes every time I open the patient chart.",
        "Saving vital signs fails with {error}.",
        "The medication list shows every entry twice.",
        "Steps: open the patient, go to the chart, click vitals - it crashes.",
    ]),
    ("training", "EHR", [
        "How to reprint a wristband",
        "New staff on {ward} need {app} training",
        "How do I add a co-signer in {app}",
    ], [
        "Could someone show the new nurses on {ward} how to use {app}?",
        "I need to reprint a wristband but cannot find the option.",
        "How do I add a co-signer to a note?",
    ]),
    ("configuration", "Printing", [
        "Add new ward printer to {app}",
        "Label template wrong size for specimen tubes",
        "Default printer wrong on {device}",
        "Map new {printer} for {ward}",
    ], [
        "We got a new {printer} on {ward}, please add it to {app}.",
        "The specimen label template is too wide for the new tubes.",
        "Every print from the {device} goes to the printer on another ward.",
    ]),
    ("access", "Email", [
        "Forgot email password",
        "Outlook keeps asking for password",
        "Shared mailbox for {ward} not visible",
    ], [
        "Outlook keeps asking for my password since yesterday.",
        "I cannot see the {ward} shared mailbox any more.",
        "I forgot my email password and the self-service reset fails with {error}.",
    ]),
]

PROBLEMS_RU = [
    ("device", "Printing", [
        "Принтер не печатает этикетки в {ward_ru}",
        "Принтер не печатает",
        "Принтер браслетов зажёвывает ленту",
        "Этикетки печатаются пустыми",
    ], [
        "Принтер этикеток в {ward_ru} перестал печатать с утра.",
        "Этикетки выходят пустыми, хотя задание печати проходит.",
        "Браслеты пациентов печатаются без штрих-кода.",
        "Перезагрузили принтер и заменили ленту, не помогло.",
    ]),
    ("device", "Devices", [
        "Сканер штрих-кодов не читает браслеты",
        "Не работает сканер в {ward_ru}",
    ], [
        "Сканер пищит, но в МИС ничего не появляется.",
        "Сканер не читает браслеты пациентов, вводим вручную.",
    ]),
    ("access", "Identity", [
        "Не могу войти в МИС",
        "Учётная запись заблокирована",
        "Забыл пароль от почты",
        "Нет доступа к электронной медкарте",
    ], [
        "Не могу войти в МИС, пишет неверный пароль.",
        "Учётную запись заблокировали после смены пароля.",
        "После перевода в {ward_ru} не вижу своих пациентов.",
    ]),
    ("outage", "PACS", [
        "Не открываются снимки в PACS",
        "Медленно работает электронная медкарта",
        "Нет сети в {ward_ru}",
    ], [
        "Снимки в PACS не загружаются, белый экран.",
        "Электронная медкарта открывается по минуте.",
        "Во всём отделении нет сети с половины восьмого.",
    ]),
    ("clinical-workflow", "EHR", [
        "Не приходят результаты анализов",
        "Назначения не уходят в аптеку",
    ], [
        "Результаты анализов пациентов не появляются в карте.",
        "Аптека не получает назначения из {ward_ru}.",
    ]),
]

TAILS_EN = [
    "", "", " Urgent, the round starts at 9.", " Several colleagues have the same problem.",
    " It worked yesterday.", " Happens on every workstation on the ward.",
    " Please call me on extension {ext}.", " Screenshot attached earlier by a colleague.",
]
TAILS_RU = ["", "", " Срочно, обход в 9.", " У коллег то же самое.", " Вчера работало.",
            " Позвоните, пожалуйста, на внутренний {ext}."]

KI_PATTERNS = [
    ("{printer} label printers print blank labels after driver update {ver}",
     "Labels come out blank on {printer} printers; the print job completes. "
     "Started after driver {ver} was deployed.",
     "Print from the printer's web page once (Calibrate), or use the printer on the next ward "
     "until the driver is rolled back.", ["device"], ["Printing"]),
    ("Wristbands print without barcode on {printer}",
     "Patient wristbands print with name and date of birth but no barcode.",
     "Reprint from the admissions desk; hand-write the MRN only as a last resort.",
     ["device", "clinical-workflow"], ["Printing"]),
    ("EHR login fails with {error} on {ward}",
     "Users cannot log in to the EHR; the login page shows {error}.",
     "Log in through Citrix from another workstation; the identity team is working on it.",
     ["access"], ["EHR", "Identity"]),
    ("PACS images not loading in the viewer (build {ver})",
     "Studies open with a white screen or take minutes to load.",
     "Use the web viewer link in the radiology report.", ["outage"], ["PACS"]),
    ("Wi-Fi drops on {ward} after access point firmware {ver}",
     "Workstations on wheels lose their session every few minutes.",
     "Dock the workstation or use the wired PCs at the nurse station.", ["outage"], ["Network"]),
    ("{scanner} scanners do not read wristbands",
     "Scanning a wristband beeps but nothing reaches the EHR.",
     "Re-scan the configuration barcode from the scanner quick-start sheet.",
     ["device"], ["Devices"]),
    ("Lab results delayed in EHR (LIS interface {ver})",
     "Results appear in the EHR up to two hours late.",
     "Check results in the LIS web portal; critical values are phoned as usual.",
     ["clinical-workflow"], ["LIS", "EHR"]),
    ("Принтеры этикеток не печатают после обновления драйвера {ver}",
     "Этикетки выходят пустыми на принтерах {printer}.",
     "Печатайте на принтере соседнего отделения до отката драйвера.", ["device"], ["Printing"]),
    ("Не удаётся войти в МИС: {error}",
     "Пользователи не могут войти в МИС, на странице входа ошибка.",
     "Входите через Citrix с другого рабочего места.", ["access"], ["EHR"]),
]

URGENCY = (["not-blocking"] * 45 + ["function-affected"] * 35 + ["job-stopped"] * 17
           + ["patient-safety"] * 3)
IMPACT = ["single"] * 70 + ["multiple"] * 25 + ["all"] * 5
# DESIGN.md's default urgency x impact matrix (lib/sd_priority.c)
PRIORITY = {
    ("patient-safety", "single"): "critical", ("patient-safety", "multiple"): "critical",
    ("patient-safety", "all"): "critical",
    ("job-stopped", "single"): "high", ("job-stopped", "multiple"): "urgent",
    ("job-stopped", "all"): "urgent",
    ("function-affected", "single"): "high", ("function-affected", "multiple"): "high",
    ("function-affected", "all"): "urgent",
    ("not-blocking", "single"): "normal", ("not-blocking", "multiple"): "normal",
    ("not-blocking", "all"): "normal",
}
PRIO_IDX = {"critical": 0, "urgent": 1, "high": 2, "normal": 3}
# lib/sd_ticket.c defaults: response hours per tier; resolution minutes
RESP_H = {1: 1, 2: 1, 3: 1}
RES_MIN = {1: (30, 60, 240, 960), 2: (30, 60, 480, 2400), 3: (240, 480, 1440, 4800)}
TIERS = [1] * 75 + [2] * 20 + [3] * 5
ENVIRONMENTS = ["production"] * 18 + ["test", "training"]

DISPLAY = {"alice": "Alice Archer", "bob": "Bob Brown", "carol": "Carol Clark",
           "dan": "Dan Dawson", "nina": "Nina Novak", "tom": "Tom Turner", "tess": "Tess Tate",
           "sam": "Sam Stone"}



def _fill(rng, s):
    if "{" not in s:
        return s
    return s.format(ward=rng.choice(WARDS), ward_ru=rng.choice(WARDS_RU),
                    printer=rng.choice(PRINTERS), scanner=rng.choice(SCANNERS),
                    app=rng.choice(APPS), device=rng.choice(DEVICES), error=rng.choice(ERRORS),
                    ext=rng.randint(2000, 7999), ver="%d.%d.%d" % (rng.randint(1, 9),
                                                                   rng.randint(0, 20),
                                                                   rng.randint(0, 99)))




# ---- generation -----------------------------------------------------------------

TICKET_COLS = (
    "id", "tenant", "subject", "description", "category", "urgency", "impact", "priority",
    "status", "tier", "environment", "service", "device_model", "cc", "context", "reporter",
    "reporter_name", "reporter_email", "assignee", "known_issue_id", "created_at", "updated_at",
    "tier_started_at", "response_due_at", "resolution_due_at", "first_response_at",
    "responded_at", "resolved_at", "closed_at", "pending_since", "paused_seconds",
    "sla_breached", "version")
KI_COLS = ("id", "tenant", "title", "symptoms", "workaround", "resolution", "status",
           "services", "categories", "created_by", "created_at", "updated_at", "resolved_at",
           "version")
COMMENT_COLS = ("id", "tenant", "ticket_id", "author", "author_name", "body", "internal",
                "created_at")
EVENT_COLS = ("id", "tenant", "ticket_id", "at", "actor", "kind", "field", "old_value",
              "new_value", "note")
STINT_COLS = ("id", "tenant", "ticket_id", "tier", "priority", "category", "started_at",
              "response_due_at", "resolution_due_at", "responded_at", "ended_at", "outcome",
              "breached")
# column positions in a ticket row
T = {c: i for i, c in enumerate(TICKET_COLS)}

AGENTS_OF = {NORTH: ["nina", "tom", "tess"], SOUTH: ["sam"]}
REPORTERS_OF = {NORTH: ["alice", "bob"], SOUTH: ["carol", "dan"]}

COMMENTS_REPORTER = [
    "Still not working this morning.", "Any news? The ward is waiting for this.",
    "It happened again at 14:10, same message.", "Thanks, that fixed it.",
    "The workaround helps for now.", "Colleagues on the night shift see it too.",
    "Всё ещё не работает.", "Спасибо, заработало.",
]
COMMENTS_AGENT = [
    "Thanks for the report, we are looking into it.",
    "Could you send a screenshot of the error message?",
    "Please restart the workstation and try again.",
    "This matches a known issue; the workaround is in the link.",
    "The vendor has been contacted, we will update you.",
    "Fixed on our side, please confirm.",
    "Мы разбираемся, ответим в течение часа.",
]
NOTES_INTERNAL = [
    "Probably the driver update from last night.", "Escalating: needs the interface team.",
    "Same as three other tickets from the ward today.", "Checked the print server logs.",
]


def _people(tenant):
    agents = AGENTS_OF.get(tenant) or ["agent%d" % i for i in range(1, 4)]
    named = REPORTERS_OF.get(tenant, [])
    return agents, named


def _display(user):
    return DISPLAY.get(user) or "User %s" % user


def gen_known_issues(rng, n, now, first_id=1):
    """n known issues: ~2% global (tenant ''), the rest spread like the
    tickets; 30% active, 10% monitoring, 60% resolved."""
    rows = []
    span = 3 * 365 * DAY
    for i in range(n):
        r = rng.random()
        if r < 0.02 or i < 3:
            tenant = ""
        else:
            x, tenant = rng.random(), NORTH
            for t, share in TENANT_SHARES:
                if x < share:
                    tenant = t
                    break
                x -= share
        title, symptoms, workaround, cats, services = rng.choice(KI_PATTERNS)
        created = now - rng.randint(3600, span)
        s = rng.random()
        status = "active" if s < 0.3 else ("monitoring" if s < 0.4 else "resolved")
        resolved_at = resolution = None
        updated = min(now - 60, created + rng.randint(60, 3 * DAY))
        if status == "resolved":
            resolved_at = updated
            resolution = "Fixed by the vendor; see the change record."
        rows.append((first_id + i, tenant, _fill(rng, title), _fill(rng, symptoms),
                     _fill(rng, workaround), resolution, status, json.dumps(services),
                     json.dumps(cats), rng.choice(["tom", "tess", "ada"]), created, updated,
                     resolved_at, rng.randint(1, 3)))
    return rows


class Ids:
    """Next free id per table (explicit ids, so children can refer to them)."""

    def __init__(self, start):
        self.next = dict(start)

    def take(self, table):
        v = self.next[table]
        self.next[table] = v + 1
        return v


def gen_ticket(rng, tid, tenant, now, reporters, ki_by_tenant, alice_share=0.0):
    """One ticket row (TICKET_COLS order) over the last 3 years. About 10%
    are active (new/open/pending); resolved ones are younger than the
    auto-close window, older ones are closed, and the SLA flags match the due
    times, so the watchdog's scans find nothing to do during a run."""
    span = 3 * 365 * DAY
    agents, named = _people(tenant)
    ru = rng.random() < 0.12
    cat, service, subjects, frags = rng.choice(PROBLEMS_RU if ru else PROBLEMS_EN)
    subject = _fill(rng, rng.choice(subjects))
    k = rng.randint(1, 3)
    desc = " ".join(_fill(rng, f) for f in rng.sample(frags, min(k, len(frags))))
    desc += _fill(rng, rng.choice(TAILS_RU if ru else TAILS_EN))
    urg, imp = rng.choice(URGENCY), rng.choice(IMPACT)
    prio = PRIORITY[(urg, imp)]
    tier = rng.choice(TIERS)
    if alice_share and rng.random() < alice_share:
        rep = "alice"
    elif named and rng.random() < 0.005:
        rep = rng.choice(named)
    else:
        rep = rng.choice(reporters)
    email = "%s@%s.example" % (rep, tenant)
    x = rng.random()
    active = x < 0.10
    status = "closed"
    if active:
        status = "new" if x < 0.03 else ("open" if x < 0.08 else "pending")
        if rng.random() < 0.7:
            created = now - rng.randint(600, 30 * DAY)
        else:
            created = now - rng.randint(30 * DAY, span)
    else:
        created = now - rng.randint(DAY, span)
    tier_started = created if tier == 1 else min(now - 60, created + rng.randint(600, 2 * DAY))
    resp_due = created + RESP_H[tier] * 3600
    res_due = tier_started + RES_MIN[tier][PRIO_IDX[prio]] * 60
    first = resolved = closed = pending = None
    assignee = None
    if not active or status != "new":
        first = min(now - 30, created + rng.randint(120, 4 * 3600))
        assignee = rng.choice(agents)
    if active:
        updated = min(now - 10, (first or created) + rng.randint(0, 2 * DAY))
        if status == "pending":
            pending = updated
    else:
        resolved = min(now - 3600, first + rng.randint(600, 5 * DAY))
        if resolved >= now - 6 * DAY:
            status = "resolved"
            updated = resolved
        else:
            closed = min(now - 60, resolved + 7 * DAY)
            updated = closed
    breached = 0
    if (first is None and resp_due < now) or (first is not None and first > resp_due):
        breached |= 1
    end = resolved if resolved is not None else now
    if res_due < end:
        breached |= 2
    ki = None
    kis = ki_by_tenant.get(tenant)
    if kis and rng.random() < 0.04:
        ki = rng.choice(kis)
    return (tid, tenant, subject, desc, cat, urg, imp, prio, status, tier,
            rng.choice(ENVIRONMENTS), service,
            rng.choice(PRINTERS) if service == "Printing" and rng.random() < 0.5 else None,
            "[]", "{}", rep, _display(rep), email, assignee, ki, created, updated, tier_started,
            resp_due, res_due, first, first, resolved, closed, pending, 0, breached,
            rng.randint(1, 6))


def gen_children(rng, t, ids, out):
    """The audit trail, tier stints and comments of ticket row t, appended to
    out["ticket_events"], out["ticket_tiers"], out["comments"]."""
    tid, tenant, rep = t[T["id"]], t[T["tenant"]], t[T["reporter"]]
    created, first = t[T["created_at"]], t[T["first_response_at"]]
    resolved, closed, status = t[T["resolved_at"]], t[T["closed_at"]], t[T["status"]]
    tier, assignee = t[T["tier"]], t[T["assignee"]]
    agents, _ = _people(tenant)
    ev, st, cm = out["ticket_events"], out["ticket_tiers"], out["comments"]
    ev.append((ids.take("ticket_events"), tenant, tid, created, rep, "created",
               None, None, None, None))
    # stints: an escalated ticket (tier 3) spent time in tier 2 first
    t_start = t[T["tier_started_at"]]
    if tier == 3:
        st.append((ids.take("ticket_tiers"), tenant, tid, 2, t[T["priority"]], t[T["category"]],
                   created, created + 3600, created + 8 * 3600, first, t_start, "escalated", 0))
        ev.append((ids.take("ticket_events"), tenant, tid, t_start, assignee or agents[0],
                   "escalated", "tier", "2", "3", "Needs senior technical support."))
    end = resolved if resolved is not None else None
    st.append((ids.take("ticket_tiers"), tenant, tid, tier, t[T["priority"]], t[T["category"]],
               t_start, t[T["response_due_at"]], t[T["resolution_due_at"]], first, end,
               "resolved" if end is not None else None, t[T["sla_breached"]]))
    if first is None:
        return
    ev.append((ids.take("ticket_events"), tenant, tid, first, assignee, "assignee", "assignee",
               None, assignee, None))
    ev.append((ids.take("ticket_events"), tenant, tid, first, assignee, "status", "status",
               "new", "open", None))
    # the conversation: agent answers at first response, then back and forth
    n = rng.randint(0, 4) if resolved is None else rng.randint(1, 6)
    at = first
    last = resolved if resolved is not None else t[T["updated_at"]]
    step = max(60, (last - first) // (n + 1)) if last > first else 60
    for i in range(n):
        internal = 1 if (i % 3 == 2) else 0
        if internal:
            author, body = assignee, rng.choice(NOTES_INTERNAL)
        elif i % 2 == 0:
            author, body = assignee, rng.choice(COMMENTS_AGENT)
        else:
            author, body = rep, rng.choice(COMMENTS_REPORTER)
        cm.append((ids.take("comments"), tenant, tid, author, _display(author), body, internal,
                   at))
        ev.append((ids.take("ticket_events"), tenant, tid, at, author, "comment",
                   "internal" if internal else "public", None, None, None))
        at = min(at + step, now_of(t))
    if status == "pending":
        ev.append((ids.take("ticket_events"), tenant, tid, t[T["pending_since"]], assignee,
                   "status", "status", "open", "pending", None))
    if resolved is not None:
        ev.append((ids.take("ticket_events"), tenant, tid, resolved, assignee, "status",
                   "status", "open", "resolved", None))
    if closed is not None:
        ev.append((ids.take("ticket_events"), tenant, tid, closed, "system", "status",
                   "status", "resolved", "closed", "Closed automatically."))


def now_of(t):
    return max(t[T["updated_at"]], t[T["created_at"]])


def gen_feature_ticket(tid, now):
    """The ticket the 'get one ticket' scenario reads: alice's, open, tier 2,
    10 comments (4 of them internal)."""
    created = now - 3 * DAY
    return (tid, NORTH, "Label printer on ward 3 prints blank labels",
            "Since the 8:00 restart every label from the Zebra ZD421 on ward 3 comes out blank. "
            "The print job shows as completed in the EHR. We swapped the ribbon and the "
            "labels, no change. Specimen collection is delayed.",
            "device", "job-stopped", "multiple", "urgent", "open", 2, "production", "Printing",
            "Zebra ZD421", "[]", "{}", "alice", "Alice Archer", "alice@north-hospital.example",
            "tom", None, created, now - 600, created + 1800, created + 3600,
            created + 1800 + 3600, created + 900, created + 900, None, None, None, 0, 2, 12)


def gen_feature_comments(ids, tid, now):
    texts = [
        ("alice", 0, "Still blank this morning, we are writing labels by hand."),
        ("nina", 0, "Thanks, I have asked the ward to use the printer in the corridor meanwhile."),
        ("nina", 1, "Driver 5.1.18 was pushed to ward 3 last night, probably related."),
        ("tom", 0, "Could you print the configuration label (hold the feed button 2 s)?"),
        ("alice", 0, "Done, the configuration label is also blank."),
        ("tom", 1, "Same symptom as the known issue on ZD421; checking the rollback."),
        ("tom", 0, "I rolled back the driver on the ward 3 print server. Please try again."),
        ("alice", 0, "Labels print again, but the barcode is cut off on the right."),
        ("tom", 0, "Adjusted the label width in the template. Does it look right now?"),
        ("alice", 0, "Yes, all good now, thank you!"),
    ]
    t0 = now - 3 * DAY + 1800
    return [(ids.take("comments"), NORTH, tid, a, DISPLAY[a], body, internal, t0 + i * 3 * 3600)
            for i, (a, internal, body) in enumerate(texts)]


class Info:
    """What was loaded (for the scenarios and the report)."""

    def __init__(self):
        self.tickets = self.comments = self.events = self.stints = self.ki = 0
        self.per_tenant = {}
        self.alice = []          # ids of alice's tickets (the newest 200)
        self.alice_active = []   # ids of alice's active tickets (the newest 200)
        self.alice_n = 0
        self.active_north = 0
        self.ki_live = 0
        self.fid = None          # the feature ticket (10 comments)
        self.linked = 0
        self.seconds = 0.0

    def summary(self):
        return ("%d tickets (%s), %d comments, %d events, %d stints, %d known issues "
                "(%d unresolved), %d links; alice has %d tickets; ticket %d has 10 comments"
                % (self.tickets, ", ".join("%s %d" % kv for kv in self.per_tenant.items()),
                   self.comments, self.events, self.stints, self.ki, self.ki_live, self.linked,
                   self.alice_n, self.fid or 0))


def generate(sink, n, n_ki=None, seed=20240611, now=None, log=None):
    """Generate n tickets (plus everything around them) into sink, which
    has .start_ids() -> {table: next id}, .rows(table, cols, rows) and
    .finish(). Returns an Info."""
    rng = random.Random(seed)
    now = int(now or time.time())
    n_ki = n // 20 if n_ki is None else n_ki
    info = Info()
    t0 = time.monotonic()
    ids = Ids(sink.start_ids())
    ki = gen_known_issues(rng, n_ki, now, ids.next["known_issues"])
    ids.next["known_issues"] += len(ki)
    ki_by_tenant = {}
    for r in ki:
        if r[6] != "resolved":
            info.ki_live += 1
    for t, _ in TENANT_SHARES:
        ki_by_tenant[t] = [r[0] for r in ki if r[1] in (t, "")]
    sink.rows("known_issues", KI_COLS, ki)
    info.ki = len(ki)
    del ki
    plan = []
    left = n
    for i, (tenant, share) in enumerate(TENANT_SHARES):
        k = left if i == len(TENANT_SHARES) - 1 else int(round(n * share))
        k = min(k, left)
        left -= k
        plan.append((tenant, k))
    for tenant, k in plan:
        reporters = ["u%d" % i for i in range(1, 2001)]
        info.per_tenant[tenant] = k
        done = 0
        while done < k:
            m = min(CHUNK, k - done)
            rows = []
            kids = {"ticket_events": [], "ticket_tiers": [], "comments": []}
            for _ in range(m):
                t = gen_ticket(rng, ids.take("tickets"), tenant, now, reporters, ki_by_tenant,
                               alice_share=0.01 if tenant == NORTH else 0.0)
                rows.append(t)
                if t[T["reporter"]] == "alice":
                    info.alice_n += 1
                    info.alice.append(t[0])
                    if t[T["status"]] in ("new", "open", "pending"):
                        info.alice_active.append(t[0])
                if tenant == NORTH and t[T["status"]] in ("new", "open", "pending"):
                    info.active_north += 1
                if t[T["known_issue_id"]] is not None:
                    info.linked += 1
                gen_children(rng, t, ids, kids)
            sink.rows("tickets", TICKET_COLS, rows)
            for table, cols in (("ticket_tiers", STINT_COLS), ("ticket_events", EVENT_COLS),
                                ("comments", COMMENT_COLS)):
                sink.rows(table, cols, kids[table])
            info.tickets += m
            info.comments += len(kids["comments"])
            info.events += len(kids["ticket_events"])
            info.stints += len(kids["ticket_tiers"])
            done += m
            if log and info.tickets // 200000 != (info.tickets - m) // 200000:
                log("%d tickets (%.0f s)" % (info.tickets, time.monotonic() - t0))
    info.alice = info.alice[-200:]
    info.alice_active = info.alice_active[-200:]
    # the ticket the "get" scenario reads, newest of all
    fid = ids.take("tickets")
    sink.rows("tickets", TICKET_COLS, [gen_feature_ticket(fid, now)])
    fc = gen_feature_comments(ids, fid, now)
    sink.rows("comments", COMMENT_COLS, fc)
    sink.rows("ticket_events", EVENT_COLS,
              [(ids.take("ticket_events"), NORTH, fid, now - 3 * DAY, "alice", "created",
                None, None, None, None)])
    info.fid = fid
    info.tickets += 1
    info.comments += len(fc)
    info.alice_n += 1
    info.alice.append(fid)
    info.per_tenant[NORTH] += 1
    info.active_north += 1
    sink.finish()
    info.seconds = time.monotonic() - t0
    return info


# ---- loading --------------------------------------------------------------------

BIG_TABLES = ("known_issues", "tickets", "ticket_events", "comments", "ticket_tiers")
ID_TABLES = BIG_TABLES


def migrations(driver):
    """[(version, name, sql)] of sql/<driver>/NNN_name.sql, in order."""
    d = os.path.join(REPO, "sql", driver)
    out = []
    for f in sorted(os.listdir(d)):
        if f.endswith(".sql"):
            base = f[:-4]
            with open(os.path.join(d, f)) as fh:
                out.append((int(base.split("_", 1)[0]), base, fh.read()))
    return out


class SqliteSink:
    """Prepared inserts in one transaction on a sqlite3 connection to a
    database that has the module's schema. Secondary indexes and the
    full-text triggers of the big tables are dropped for the load and made
    again from their own SQL (sqlite_master) afterwards, the FTS tables
    rebuilt: the schema ends as the migrations made it."""

    def __init__(self, path):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        c = self.conn
        c.execute("PRAGMA journal_mode=DELETE")
        c.execute("PRAGMA journal_mode=OFF")
        c.execute("PRAGMA synchronous=OFF")
        c.execute("PRAGMA foreign_keys=OFF")
        c.execute("PRAGMA cache_size=-262144")      # 256 MiB while loading
        self.saved = c.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
            " AND sql IS NOT NULL AND tbl_name IN (%s) ORDER BY rowid"
            % ",".join("'%s'" % t for t in BIG_TABLES)).fetchall()
        c.execute("BEGIN")
        for typ, name, _ in self.saved:
            c.execute("DROP %s %s" % (typ.upper(), name))
        self.stmts = {}

    def start_ids(self):
        return {t: (self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM %s" % t).fetchone()[0]
                    + 1) for t in ID_TABLES}

    def rows(self, table, cols, rows):
        if not rows:
            return
        key = (table, cols)
        if key not in self.stmts:
            self.stmts[key] = "INSERT INTO %s (%s) VALUES (%s)" % (
                table, ", ".join(cols), ", ".join("?" * len(cols)))
        self.conn.executemany(self.stmts[key], rows)

    def finish(self):
        c = self.conn
        for typ, name, sql in self.saved:
            c.execute(sql)
        for fts in ("tickets_fts", "known_issues_fts"):
            if c.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (fts,)).fetchone():
                c.execute("INSERT INTO %s (%s) VALUES ('rebuild')" % (fts, fts))
        c.execute("COMMIT")
        # no ANALYZE: the module never runs it, so the plans stay the ones
        # a real database gets
        c.execute("PRAGMA journal_mode=WAL")
        c.close()


def _copy_text(rows):
    def cell(v):
        if v is None:
            return "\\N"
        s = str(v)
        return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join(cell(v) for v in r))
        buf.write("\n")
    buf.seek(0)
    return buf


class PgSink:
    """COPY in one transaction on a psycopg2 connection (autocommit off) to
    a database with the module's schema. Indexes (other than primary keys)
    and foreign keys of the big tables are dropped for the load and created
    again from their definitions; sequences move past the loaded ids."""

    def __init__(self, conn):
        self.conn = conn
        conn.autocommit = False
        cur = self.cur = conn.cursor()
        names = tuple(BIG_TABLES)
        cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                    " FROM pg_constraint WHERE contype = 'f' AND (conrelid::regclass::text IN %s"
                    " OR confrelid::regclass::text IN %s)", (names, names))
        self.fks = cur.fetchall()
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname ="
                    " current_schema() AND tablename IN %s AND indexname NOT IN"
                    " (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
                    (names,))
        self.indexes = cur.fetchall()
        for table, name, _ in self.fks:
            cur.execute('ALTER TABLE %s DROP CONSTRAINT "%s"' % (table, name))
        for name, _ in self.indexes:
            cur.execute('DROP INDEX "%s"' % name)

    def start_ids(self):
        out = {}
        for t in ID_TABLES:
            self.cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM %s" % t)
            out[t] = self.cur.fetchone()[0]
        return out

    def rows(self, table, cols, rows):
        if rows:
            self.cur.copy_expert("COPY %s (%s) FROM STDIN" % (table, ", ".join(cols)),
                                 _copy_text(rows))

    def finish(self):
        cur = self.cur
        cur.execute("SET maintenance_work_mem = '256MB'")
        for _, sql in self.indexes:
            cur.execute(sql)
        for table, name, definition in self.fks:
            cur.execute('ALTER TABLE %s ADD CONSTRAINT "%s" %s' % (table, name, definition))
        for t in ID_TABLES:
            cur.execute("SELECT setval(pg_get_serial_sequence('%s', 'id'),"
                        " (SELECT COALESCE(MAX(id), 0) + 1 FROM %s), false)" % (t, t))
        self.conn.commit()
        self.conn.autocommit = True
        cur.execute("ANALYZE")


def sqlite_schema(path):
    """A new SQLite file with the migrations of sql/sqlite3 applied and
    recorded as the module records them."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
        for version, name, sql in migrations("sqlite3"):
            for stmt in split_sql(sql):
                conn.execute(stmt)
            conn.execute("INSERT INTO schema_version (version, name, applied_at) "
                         "VALUES (?, ?, ?)", (version, name, int(time.time())))
        conn.execute("COMMIT")
    finally:
        conn.close()


def split_sql(script):
    """Statements of a migration file, cut as the module cuts them (a ';' at
    the end of a line ends one; a CREATE TRIGGER ends at 'END;')."""
    out, cur, trig = [], [], False
    for line in script.split("\n"):
        t = line.strip()
        if not cur and (not t or t.startswith("--")):
            continue
        if not cur and t.upper().startswith("CREATE TRIGGER"):
            trig = True
        cur.append(line)
        if t.endswith(";") and (not trig or t.upper().startswith("END;")):
            out.append("\n".join(cur))
            cur, trig = [], False
    if cur and "".join(cur).strip():
        out.append("\n".join(cur))
    return out


def pg_schema(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
    for version, name, sql in migrations("pgsql"):
        cur.execute(sql)
        cur.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                    (version, name, int(time.time())))
    conn.commit()


def load_sqlite(path, n, **kw):
    sink = SqliteSink(path)
    return generate(sink, n, **kw)


def load_pgsql(conn, n, **kw):
    sink = PgSink(conn)
    return generate(sink, n, **kw)


# ---- make bench-data ------------------------------------------------------------

def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="generate a mod_sdesk benchmark database")
    ap.add_argument("n", type=int, help="tickets")
    ap.add_argument("--backend", default=os.environ.get("BENCH_BACKEND") or "sqlite",
                    choices=("sqlite", "pgsql"))
    ap.add_argument("--out", help="SQLite file (default build/bench/sdesk-N.db)")
    ap.add_argument("--dsn", default=os.environ.get("BENCH_PG_DSN"),
                    help="PostgreSQL DSN (default: a private cluster in build/bench/pgsql-N)")
    ap.add_argument("--ki", type=int, help="known issues (default N/20)")
    ap.add_argument("--seed", type=int, default=20240611)
    a = ap.parse_args(argv)
    say = lambda m: print("bench-data: " + m, flush=True)  # noqa: E731
    out_dir = os.path.join(REPO, "build", "bench")
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.monotonic()
    if a.backend == "sqlite":
        path = a.out or os.path.join(out_dir, "sdesk-%d.db" % a.n)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        sqlite_schema(path)
        info = load_sqlite(path, a.n, n_ki=a.ki, seed=a.seed, log=say)
        say("%s: %s" % (os.path.relpath(path, REPO), info.summary()))
        say("%.0f s, %.0f MiB; use it with BENCH_DATA=%s make bench (a copy is used)"
            % (time.monotonic() - t0, os.path.getsize(path) / 2**20, os.path.relpath(path, REPO)))
        return 0
    import psycopg2
    pg = None
    if a.dsn:
        conn = psycopg2.connect(a.dsn)
    else:
        sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
        import harness
        d = os.path.join(out_dir, "pgsql-%d" % a.n)
        if os.path.exists(d):
            import shutil
            shutil.rmtree(d)
        pg = harness.Postgres(d)
        pg.setup()
        conn = pg.connect()
    try:
        conn.autocommit = False
        pg_schema(conn)
        info = load_pgsql(conn, a.n, n_ki=a.ki, seed=a.seed, log=say)
        cur = conn.cursor()
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    finally:
        conn.close()
        if pg is not None:
            pg.stop()
    say(info.summary())
    say("%.0f s, %s%s" % (time.monotonic() - t0, size,
                          "" if a.dsn else "; cluster in %s (stopped; start it with "
                          "runuser -u postgres -- pg_ctl -D %s/data start)"
                          % (os.path.relpath(d, REPO), os.path.relpath(d, REPO))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
