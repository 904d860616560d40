//! The texts of the reminder letters and their e-mail drafts, in one place like the findings'
//! texts ([`crate::catalogue`]): subject, paragraphs and the e-mail body, in the terms of the
//! Kreisschreiben (5.2). The renderers lay them out and add nothing that says more; every
//! sentence rests on what [`crate::mahnung`] decided (the form, its deadline, the level, the
//! first reminder's date and deadline, the municipalities it covers).
//!
//! It knows nothing of the layout, the ledger or the command.

use crate::domain::{fmt_date, Bfs};
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
