//! The texts of the reminder letters, the yearly information and their e-mail drafts, in one
//! place like the findings' texts ([`crate::catalogue`]): subject, paragraphs, headings and
//! the e-mail body, in the terms of the Kreisschreiben (5.2, 4.5.3). The renderers lay them
//! out and add nothing that says more; every sentence rests on what [`crate::mahnung`]
//! decided (the form, its deadline, the level, the first reminder's date and deadline, the
//! municipalities it covers) or what [`crate::jahresinfo`] states (amounts, payouts, withheld
//! amounts, invoices), and a section whose facts are empty is not written.
//!
//! It knows nothing of the layout, the ledger or the command.

use crate::domain::{chf_text, fmt_date, Bfs};
use crate::jahresinfo::{Info, Source};
use crate::mahnung::Form;

/// What a reminder letter says, filled in by the caller from the decided reminder.
#[derive(Debug, Clone)]
pub struct ReminderFacts<'a> {
    /// `Gunzgen (2578)`.
    pub recipient: &'a str,
    pub form: Form,
    pub level: u8,
    /// The form's deadline that has passed.
    pub passed: chrono::NaiveDate,
    /// The new deadline.
    pub deadline: chrono::NaiveDate,
    /// For a second reminder: the first one's date and deadline.
    pub first: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    /// The other municipalities the form covers (a lead's members): `Härkingen (2402)`.
    pub members: Vec<String>,
    /// The attached blank form's file name.
    pub attachment: Option<&'a str>,
    /// The office's e-mail address (empty: none in the master data).
    pub email: &'a str,
    /// Whom to ask (empty: nobody named).
    pub contact: &'a str,
}

/// `1. Mahnung`, `2. Mahnung`.
pub fn level_label(level: u8) -> String {
    format!("{level}. Mahnung")
}

/// An open reminder as the Übersicht marks it: `1. Mahnung 14.02.2024`.
pub fn reminder_mark(level: u8, date: chrono::NaiveDate) -> String {
    format!("{} {}", level_label(level), fmt_date(date))
}

/// The letter's subject: `1. Mahnung: Reportingformular 1. Halbjahr 2023 – Gunzgen (2578)`.
pub fn reminder_subject(f: &ReminderFacts<'_>) -> String {
    format!("{}: {} – {}", level_label(f.level), f.form.label(), f.recipient)
}

/// `das Reportingformular 1. Halbjahr 2023`, `die Selbstdeklaration 2023`.
fn with_article(form: Form) -> String {
    match form {
        Form::Report(_) => format!("das {}", form.label()),
        Form::Selbstdeklaration(_) => format!("die {}", form.label()),
    }
}

/// `A`, `A und B`, `A, B und C`.
pub fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} und {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// The paragraphs of the letter's body, before the closing paragraph.
pub fn reminder_paragraphs(f: &ReminderFacts<'_>) -> Vec<String> {
    let form = with_article(f.form);
    let mut out = Vec::new();
    let due = match f.form {
        Form::Report(_) => {
            "Das Reportingformular (Anhang Nr. 2) ist halbjährlich bis am 31.07. und am 31.01. einzureichen"
        }
        Form::Selbstdeklaration(_) => "Die Selbstdeklaration (Anhang Nr. 3) ist jährlich bis am 31.01. einzureichen",
    };
    match (f.level, f.first) {
        (2, Some((first, first_deadline))) => out.push(format!(
            "Mit unserer 1. Mahnung vom {} haben wir Sie gebeten, uns {form} bis am {} einzureichen. \
             Bis heute ist bei uns kein gültiges Formular eingegangen.",
            fmt_date(first),
            fmt_date(first_deadline)
        )),
        _ => out.push(format!(
            "{due} (Ziffer 5.2 des Kreisschreibens KRS-GEF-2017/01). Die Frist für {form} ist am {} abgelaufen; \
             bis heute ist bei uns von {} kein gültiges Formular eingegangen.",
            fmt_date(f.passed),
            f.recipient
        )),
    }
    if !f.members.is_empty() {
        out.push(format!(
            "Als Leitgemeinde reichen Sie das Formular auch für {} ein (Ziffer 4.2).",
            and_list(&f.members)
        ));
    }
    let whom = if f.members.is_empty() {
        String::new()
    } else {
        format!(" an {} und an {}", f.recipient, and_list(&f.members))
    };
    out.push(match f.form {
        Form::Report(p) => format!(
            "Die Ausrichtung der Beiträge kann von der vollständigen und fristgerechten Einreichung abhängig gemacht \
             werden (Ziffer 5.2). Solange kein gültiges Reportingformular vorliegt, werden für das {} keine Fall- und \
             Dolmetschpauschalen{whom} ausgerichtet.",
            p.label()
        ),
        Form::Selbstdeklaration(y) => format!(
            "Die Ausrichtung der Beiträge kann von der vollständigen und fristgerechten Einreichung abhängig gemacht \
             werden (Ziffer 5.2). Ohne Selbstdeklaration {y} lässt sich nicht feststellen, ob die Voraussetzungen nach \
             Ziffer 4.2 erfüllt sind; solange sie fehlt, werden alle Beiträge {y}{whom} zurückbehalten."
        ),
    });
    let to = if f.email.is_empty() { String::new() } else { format!(" an {}", f.email) };
    let attached = match f.attachment {
        Some(a) => format!(" Ein vorausgefülltes Formular liegt bei («{a}»)."),
        None => String::new(),
    };
    out.push(format!("Bitte senden Sie uns {form} bis am {}{to}.{attached}", fmt_date(f.deadline)));
    if f.level >= crate::mahnung::LAST_LEVEL {
        out.push("Dies ist die letzte Mahnung.".to_string());
    }
    out
}

/// The closing paragraph: whom to ask.
pub fn reminder_last(f: &ReminderFacts<'_>) -> String {
    if f.contact.is_empty() {
        "Für Fragen sind wir gerne für Sie da.".to_string()
    } else {
        format!("Für Fragen sind wir gerne für Sie da: {}.", f.contact)
    }
}

/// The e-mail draft's text before the closing.
pub fn reminder_mail(f: &ReminderFacts<'_>, letter: &str) -> String {
    let attached = match f.attachment {
        Some(a) => format!(" und ein vorausgefülltes Formular («{a}»)"),
        None => String::new(),
    };
    format!(
        "Sehr geehrte Damen und Herren,\n\nim Anhang erhalten Sie unsere {} {} {} («{letter}»){attached}. \
         Bitte senden Sie uns das Formular bis am {}.",
        level_label(f.level),
        to_the(f.form),
        f.form.label(),
        fmt_date(f.deadline)
    )
}

/// `zum` / `zur`.
fn to_the(form: Form) -> &'static str {
    match form {
        Form::Report(_) => "zum",
        Form::Selbstdeklaration(_) => "zur",
    }
}

/// `Gunzgen (2578)`.
pub fn name_bfs(name: &str, bfs: Bfs) -> String {
    format!("{name} ({bfs})")
}

// ---------------------------------------------------------------------------
// The yearly information (4.5.3)
// ---------------------------------------------------------------------------

/// The yearly information's subject: `Beiträge start.integration 2023 – Gunzgen (2578)`.
pub fn info_subject(i: &Info) -> String {
    format!("Beiträge start.integration {} – {}", i.year, name_bfs(&i.name, i.bfs))
}

/// The opening paragraph; `annex` is the attached annex's file name.
pub fn info_opening(i: &Info, annex: &str) -> String {
    format!(
        "Gemäss Ziffer 4.5.3 des Kreisschreibens KRS-GEF-2017/01 informieren wir die Koordinationsstellen, die \
         Präsidien der Einwohnergemeinden und die Finanzverwaltungen jährlich über die auszurichtenden Beiträge. \
         Für {} stehen im Anhang Nr. 1 ({annex}, beiliegend) für das Jahr {} die folgenden Beiträge:",
        name_bfs(&i.name, i.bfs),
        i.year
    )
}

/// The heading of the amounts and the label of their total.
pub fn info_amounts_heading(i: &Info) -> String {
    format!("Beiträge {} gemäss Anhang Nr. 1", i.year)
}
pub const INFO_TOTAL: &str = "Total";

/// A line's label with its count: `Fallpauschale Erstinformation, 1. Halbjahr 2023 (12)`.
pub fn info_amount_label(label: &str, count: Option<u64>) -> String {
    match count {
        Some(n) => format!("{label} ({n})"),
        None => label.to_string(),
    }
}

/// The heading of the payouts and the sentence before them (none when there are none).
pub fn info_payouts_heading(i: &Info, payee_name: &str) -> Option<(String, String)> {
    if i.payouts.is_empty() {
        return None;
    }
    let to = if i.payee == i.bfs { String::new() } else { format!(" an {}", name_bfs(payee_name, i.payee)) };
    Some(match i.source {
        Source::Ledger => (
            "Auszahlungen".to_string(),
            format!("Für das Jahr {} sind{to} gemäss unserer Buchhaltung folgende Beträge gebucht (Stichtag des Zahlungslaufs):", i.year),
        ),
        Source::Projection => (
            "Voraussichtliche Auszahlungen".to_string(),
            format!(
                "In unserer Buchhaltung ist für das Jahr {} noch keine Auszahlung gebucht. Nach dem Auszahlungskalender \
                 (Ziffer 4.5.2) werden die Beiträge{to} voraussichtlich wie folgt ausgerichtet:",
                i.year
            ),
        ),
    })
}

/// A payout's label: `31.03.2023`, `31.03.2023: Sockelbeitrag 2023`, with the offset
/// clawbacks when there are any.
pub fn info_payout_label(date: chrono::NaiveDate, basis: &str, offset: crate::domain::Chf) -> String {
    let mut s = fmt_date(date);
    if !basis.is_empty() {
        s.push_str(&format!(": {basis}"));
    }
    if offset.is_positive() {
        s.push_str(&format!(", abzüglich verrechnete Rückforderungen CHF {}", chf_text(offset)));
    }
    s
}

/// The label of what the ledger has not booked yet.
pub const INFO_NOT_YET_PAID: &str = "Noch nicht gebucht";

/// The heading of the withheld amounts and the sentence before them.
pub fn info_withheld_heading(i: &Info) -> Option<(String, String)> {
    (!i.withheld.is_empty()).then(|| {
        (
            "Nicht ausgerichtet".to_string(),
            format!("Folgende Beiträge {} werden nicht ausgerichtet, mit dem Grund:", i.year),
        )
    })
}

/// The heading of the open invoices and the sentence before them.
pub fn info_invoices_heading(i: &Info) -> Option<(String, String)> {
    if i.invoices.is_empty() {
        return None;
    }
    let projected = i.invoices.iter().all(|v| v.id.is_empty());
    Some(if projected {
        (
            "Voraussichtliche Rechnung".to_string(),
            "Übersteigen die Rückforderungen die Beiträge eines Zahlungslaufs, stellen wir den Rest in Rechnung \
             (Ziffer 4.7); voraussichtlich:"
                .to_string(),
        )
    } else {
        ("Offene Rechnungen".to_string(), "Folgende Rechnungen sind gemäss unserer Buchhaltung noch offen:".to_string())
    })
}

/// An invoice's label: `Rechnung Nr. 2023-0001 vom 02.10.2023, zahlbar bis 01.11.2023`.
pub fn info_invoice_label(id: &str, date: chrono::NaiveDate, due: chrono::NaiveDate) -> String {
    if id.is_empty() {
        format!("Zahlungslauf vom {}, zahlbar bis {}", fmt_date(date), fmt_date(due))
    } else {
        format!("Rechnung Nr. {id} vom {}, zahlbar bis {}", fmt_date(date), fmt_date(due))
    }
}

/// The closing paragraph: whom to ask.
pub fn info_last(contact: &str) -> String {
    if contact.is_empty() {
        "Für Fragen sind wir gerne für Sie da.".to_string()
    } else {
        format!("Für Fragen sind wir gerne für Sie da: {contact}.")
    }
}

/// The copies' line below the closing: `Kopie an: Gemeindepräsidium Gunzgen, Finanzverwaltung
/// Gunzgen` (none without copies).
pub fn info_copies(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| format!("Kopie an: {}", names.join(", ")))
}

/// The e-mail draft's text before the closing: `letter` and `annex` are the attached files.
pub fn info_mail(i: &Info, letter: &str, annex: &str) -> String {
    format!(
        "Sehr geehrte Damen und Herren,\n\nim Anhang erhalten Sie unsere Information über die Beiträge \
         start.integration {} an {} («{letter}») und den Anhang Nr. 1 («{annex}»).",
        i.year,
        name_bfs(&i.name, i.bfs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ymd, Period};

    fn facts(level: u8) -> ReminderFacts<'static> {
        ReminderFacts {
            recipient: "Lead (2602)",
            form: Form::Report(Period::new(2023, 1)),
            level,
            passed: ymd(2023, 7, 31),
            deadline: ymd(2023, 8, 15),
            first: (level == 2).then(|| (ymd(2023, 8, 1), ymd(2023, 8, 15))),
            members: vec!["Member (2603)".into()],
            attachment: Some("x.xlsx"),
            email: "a@b.ch",
            contact: "",
        }
    }

    #[test]
    fn the_second_names_the_first_and_the_lead_its_members() {
        let p = reminder_paragraphs(&facts(2)).join(" ");
        assert!(p.contains("01.08.2023") && p.contains("Member (2603)") && p.contains("15.08.2023"));
        assert!(reminder_subject(&facts(2)).starts_with("2. Mahnung"));
        let p = reminder_paragraphs(&facts(1)).join(" ");
        assert!(p.contains("31.07.2023") && !p.contains("01.08.2023"));
        assert!(reminder_mail(&facts(1), "m.pdf").contains("zum Reportingformular"));
    }
}
