//! E-mail drafts (`Entwuerfe/*.eml`) for each letter and invoice: addressed to the
//! municipality's contact, with the PDF and the workbook attached, marked `X-Unsent: 1` so
//! that Outlook opens them for editing. Date and Message-ID are derived from the run or the
//! invoice.
//!
//! Master data cannot write into a draft: every body is base64, so no line of a master-data
//! text reaches the message as a line (a base64 line never starts with `--`); header values
//! are one line (control and invisible characters become spaces; the master data refuse them
//! anyway); and the MIME boundary cannot be known before the message is: it is 128 bits from
//! the operating system's random source, drawn anew for every draft, so no text written
//! before could contain it. Two drafts of the same inputs therefore differ in their boundary
//! (and only there). A boundary found anywhere but on its own delimiter lines stops the draft.

use super::{answer_by, doc_error, invoice, letter, long_date, sender_of, stem, stem_of};
use crate::adressen::MunicipalityAddress;
use crate::domain::chf_text;
use crate::domain::Bfs;
use crate::payout::InvoiceDoc;
use crate::stammdaten::Stammdaten;
use crate::write::{EvaluationData, OutFile, WriteError};
use chrono::NaiveDate;
use mail_builder::headers::address::Address as MailAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;

/// The folder of the drafts.
pub const FOLDER: &str = "Entwuerfe";

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn base_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

struct Draft<'a> {
    rel: String,
    /// `rueckmeldung`, `rechnung`, `mahnung`, `jahresinformation`: part of the Message-ID.
    kind: &'a str,
    bfs: Bfs,
    /// The addressee (none: a draft without `To`).
    to: Option<&'a MunicipalityAddress>,
    subject: String,
    text: String,
    pdf: &'a OutFile,
    /// Further attachments: workbooks (`.xlsx`) and PDFs.
    more: Vec<&'a OutFile>,
}

/// The MIME type of an attachment by its file name.
fn mime_of(rel: &str) -> &'static str {
    if rel.ends_with(".pdf") {
        "application/pdf"
    } else if rel.ends_with(".xlsx") {
        XLSX
    } else {
        "application/octet-stream"
    }
}

/// Builds a draft from the master data's sender; `tag` (the year, an invoice number) and
/// `date` make the Message-ID.
fn build(master: &Stammdaten, tag: &str, date: NaiveDate, dr: Draft<'_>) -> Result<OutFile, WriteError> {
    let s = sender_of(master);
    let domain = s.email.split_once('@').map(|(_, h)| h.to_string()).unwrap_or_else(|| "localhost".into());
    let id = format!("{}-{tag}-{}-{}@{domain}", dr.kind, dr.bfs, date.format("%Y%m%d"));
    let boundary = random_boundary().map_err(|e| doc_error(&dr.rel, e))?;
    let timestamp = date.and_hms_opt(8, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default();
    // Encoded here: mail-builder writes plain text as 7bit or quoted-printable, where a line
    // of the text stays a line of the message.
    let text =
        MimePart::new(ContentType::new("text/plain").attribute("charset", "utf-8"), base64_lines(dr.text.as_bytes()))
            .transfer_encoding("base64");
    let mut parts = vec![text];
    parts.push(MimePart::new("application/pdf", dr.pdf.bytes.as_slice()).attachment(one_line(base_name(&dr.pdf.rel))));
    for b in &dr.more {
        parts.push(MimePart::new(mime_of(&b.rel), b.bytes.as_slice()).attachment(one_line(base_name(&b.rel))));
    }
    let n_parts = parts.len();
    let mut m = MessageBuilder::new()
        .message_id(MessageId::new(id))
        .date(timestamp)
        .subject(one_line(&dr.subject))
        .header("X-Unsent", Raw::new("1"));
    if !s.email.is_empty() {
        m = m.from(MailAddress::new_address(Some(one_line(&s.address.name)), one_line(&s.email)));
    }
    if let Some(c) = dr.to.filter(|c| !c.email.is_empty()) {
        let name = if c.contact_person.is_empty() { c.address.name.as_str() } else { c.contact_person.as_str() };
        m = m.to(MailAddress::new_address(Some(one_line(name)), one_line(&c.email)));
    }
    let m = m.body(MimePart::new(ContentType::new("multipart/mixed").attribute("boundary", boundary.as_str()), parts));
    let bytes = m.write_to_vec().map_err(|e| doc_error(&dr.rel, e))?;
    if !boundary_only_as_delimiter(&bytes, &boundary, n_parts) {
        return Err(doc_error(&dr.rel, "die MIME-Grenze kommt im Inhalt vor"));
    }
    Ok(OutFile { rel: dr.rel, bytes })
}

/// The MIME boundary of a draft: `beitraege-` and 128 bits from the operating system's random
/// source, in hex.
fn random_boundary() -> Result<String, String> {
    let mut bits = [0u8; 16];
    getrandom::fill(&mut bits).map_err(|e| format!("keine Zufallszahl vom Betriebssystem: {e}"))?;
    Ok(format!("beitraege-{}", crate::fsio::hex(&bits)))
}

/// Whether `boundary` occurs in `message` only where it belongs: in the Content-Type header
/// and on the delimiter line before each of `parts` parts and after the last.
pub fn boundary_only_as_delimiter(message: &[u8], boundary: &str, parts: usize) -> bool {
    let text = String::from_utf8_lossy(message);
    let all = text.matches(boundary).count();
    let open = text.matches(&format!("\r\n--{boundary}\r\n")).count();
    let close = text.matches(&format!("\r\n--{boundary}--\r\n")).count();
    open == parts && close == 1 && all == parts + 2
}

/// `bytes` in base64 (RFC 2045): lines of at most 76 characters, each ending in CR LF.
pub fn base64_lines(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// A header value on one line: control and invisible characters (line breaks, bidirectional
/// controls) become spaces.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || crate::stammdaten::invisible_char(c) || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

const GREETING: &str = "Sehr geehrte Damen und Herren";

fn closing(master: &Stammdaten) -> String {
    let s = sender_of(master);
    let mut out = format!("Freundliche Grüsse\n\n{}\n", s.address.name);
    for l in [s.contact_person.clone(), s.phone.clone(), s.email.clone()] {
        if !l.is_empty() {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// The draft that sends a feedback letter and its workbook.
pub fn letter_draft(
    d: &EvaluationData<'_>,
    bfs: Bfs,
    pdf: &OutFile,
    book: Option<&OutFile>,
) -> Result<OutFile, WriteError> {
    let name = d.name_of(Some(bfs));
    let attached = [Some(pdf), book].iter().flatten().map(|f| base_name(&f.rel).to_string()).collect::<Vec<_>>();
    // What the letter withholds, from compute's statement (the letter names lines and reasons).
    let covered = letter::covered(d, bfs);
    let held = match letter::withheld_total(d, &covered) {
        Some(t) if t.is_positive() => {
            let what = if letter::not_eligible_only(&letter::groups(d, &covered)) {
                "Nicht ausgerichtet werden"
            } else {
                "Zurückbehalten werden"
            };
            format!(" {what} CHF {}; die Gründe stehen im Schreiben.", chf_text(t))
        }
        _ => String::new(),
    };
    let text = format!(
        "{},\n\nim Anhang erhalten Sie unsere Rückmeldung zur Berichterstattung start.integration {} \
         ({}).{held} Bitte senden Sie uns allfällige Korrekturen bis am {}.\n\n{}",
        GREETING,
        d.year,
        attached.join(", "),
        long_date(answer_by(d)),
        closing(d.master)
    );
    build(
        d.master,
        &d.year.to_string(),
        d.run_date,
        Draft {
            rel: format!("{FOLDER}/{}_Rueckmeldung.eml", stem(d, bfs)),
            kind: "rueckmeldung",
            bfs,
            to: d.master.adressen.municipalities.get(&bfs),
            subject: format!("Rückmeldung start.integration {}: {name}", d.year),
            text,
            pdf,
            more: book.into_iter().collect(),
        },
    )
}

/// The draft that sends an invoice: the invoice alone (never the annex with its internal
/// sheets).
pub fn invoice_draft(master: &Stammdaten, inv: &InvoiceDoc, pdf: &OutFile) -> Result<OutFile, WriteError> {
    let nr = invoice::number(inv);
    let text = format!(
        "{},\n\nim Anhang erhalten Sie unsere Rechnung Nr. {nr} über CHF {} für Rückforderungen \
         start.integration (Ziffer 4.7), zahlbar bis am {}.\n\n{}",
        GREETING,
        chf_text(inv.amount),
        long_date(inv.due_on),
        closing(master)
    );
    build(
        master,
        &nr,
        inv.date,
        Draft {
            rel: format!("{FOLDER}/Rechnung_{nr}_{}.eml", stem_of(master, inv.payee)),
            kind: "rechnung",
            bfs: inv.payee,
            to: master.adressen.municipalities.get(&inv.payee),
            subject: format!("Rechnung Nr. {nr}: Rückforderung start.integration"),
            text,
            pdf,
            more: vec![],
        },
    )
}

/// The draft that sends a reminder: the letter and the prefilled blank form; `text` is the
/// letter catalogue's body (the closing is added here).
pub fn reminder_draft(
    master: &Stammdaten,
    r: &crate::mahnung::Reminder,
    subject: &str,
    text: &str,
    pdf: &OutFile,
    form: Option<&OutFile>,
) -> Result<OutFile, WriteError> {
    let stem = base_name(&pdf.rel).strip_suffix(".pdf").unwrap_or(base_name(&pdf.rel)).to_string();
    build(
        master,
        &format!("{}-{}", r.missing.form.period_key(), r.level),
        r.date,
        Draft {
            rel: format!("{FOLDER}/{stem}.eml"),
            kind: "mahnung",
            bfs: r.missing.filer,
            to: master.adressen.municipalities.get(&r.missing.filer),
            subject: subject.to_string(),
            text: format!("{text}\n\n{}", closing(master)),
            pdf,
            more: form.into_iter().collect(),
        },
    )
}

/// The draft that sends the yearly information to one recipient (`to`, of role `role`): the
/// letter and the annex PDF; `text` is the letter catalogue's body (the closing is added
/// here).
#[allow(clippy::too_many_arguments)]
pub fn info_draft(
    master: &Stammdaten,
    bfs: Bfs,
    to: Option<&MunicipalityAddress>,
    role: crate::adressen::Role,
    date: NaiveDate,
    subject: &str,
    text: &str,
    pdf: &OutFile,
    annex: &OutFile,
) -> Result<OutFile, WriteError> {
    let stem = base_name(&pdf.rel).strip_suffix(".pdf").unwrap_or(base_name(&pdf.rel)).to_string();
    let role_part = match role {
        crate::adressen::Role::Koordinationsstelle => "Koordinationsstelle",
        crate::adressen::Role::Praesidium => "Praesidium",
        crate::adressen::Role::Finanzverwaltung => "Finanzverwaltung",
    };
    build(
        master,
        &format!("{}-{}", date.format("%Y"), role_part.to_lowercase()),
        date,
        Draft {
            rel: format!("{FOLDER}/{stem}_{role_part}.eml"),
            kind: "jahresinformation",
            bfs,
            to,
            subject: subject.to_string(),
            text: format!("{text}\n\n{}", closing(master)),
            pdf,
            more: vec![annex],
        },
    )
}
