//! E-mail drafts (`Entwuerfe/*.eml`) for each letter and invoice: addressed to the
//! municipality's contact, with the PDF and the workbook attached, marked `X-Unsent: 1` so
//! that Outlook opens them for editing. Date, Message-ID and MIME boundary are derived from
//! the run, so the same inputs give the same bytes.

use super::{answer_by, doc_error, invoice, letter, long_date, sender_of, stem, stem_of};
use crate::domain::chf_text;
use crate::domain::Bfs;
use crate::payout::InvoiceDoc;
use crate::stammdaten::Stammdaten;
use crate::write::{OutFile, RunData, WriteError};
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
    /// `rueckmeldung` or `rechnung`: part of Message-ID and boundary.
    kind: &'a str,
    bfs: Bfs,
    subject: String,
    text: String,
    pdf: &'a OutFile,
    book: Option<&'a OutFile>,
}

/// Builds a draft from the master data's sender; `tag` (the year, an invoice number) and
/// `date` make the Message-ID.
fn build(master: &Stammdaten, tag: &str, date: NaiveDate, dr: Draft<'_>) -> Result<OutFile, WriteError> {
    let s = sender_of(master);
    let domain = s.email.split_once('@').map(|(_, h)| h.to_string()).unwrap_or_else(|| "localhost".into());
    let id = format!("{}-{tag}-{}-{}@{domain}", dr.kind, dr.bfs, date.format("%Y%m%d"));
    let boundary = format!("beitraege-{}-{tag}-{}", dr.kind, dr.bfs);
    let timestamp = date.and_hms_opt(8, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default();
    let mut parts = vec![MimePart::new("text/plain", dr.text.as_str())];
    parts.push(MimePart::new("application/pdf", dr.pdf.bytes.as_slice()).attachment(base_name(&dr.pdf.rel)));
    if let Some(b) = dr.book {
        parts.push(MimePart::new(XLSX, b.bytes.as_slice()).attachment(base_name(&b.rel)));
    }
    let mut m = MessageBuilder::new()
        .message_id(MessageId::new(id))
        .date(timestamp)
        .subject(dr.subject.as_str())
        .header("X-Unsent", Raw::new("1"));
    if !s.email.is_empty() {
        m = m.from(MailAddress::new_address(Some(s.address.name.as_str()), s.email.as_str()));
    }
    if let Some(c) = master.adressen.municipalities.get(&dr.bfs).filter(|c| !c.email.is_empty()) {
        let name = if c.contact_person.is_empty() { c.address.name.as_str() } else { c.contact_person.as_str() };
        m = m.to(MailAddress::new_address(Some(name), c.email.as_str()));
    }
    let m = m.body(MimePart::new(ContentType::new("multipart/mixed").attribute("boundary", boundary.as_str()), parts));
    let bytes = m.write_to_vec().map_err(|e| doc_error(&dr.rel, e))?;
    Ok(OutFile { rel: dr.rel, bytes })
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
pub fn letter_draft(d: &RunData<'_>, bfs: Bfs, pdf: &OutFile, book: Option<&OutFile>) -> Result<OutFile, WriteError> {
    let name = d.name_of(Some(bfs));
    let attached = [Some(pdf), book].iter().flatten().map(|f| base_name(&f.rel).to_string()).collect::<Vec<_>>();
    // What the letter withholds, from compute's statement (the letter names lines and reasons).
    let covered = letter::covered(d, bfs);
    let held = match letter::withheld_total(d, &covered) {
        Some(t) if t > rust_decimal::Decimal::ZERO => {
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
            subject: format!("Rückmeldung start.integration {}: {name}", d.year),
            text,
            pdf,
            book,
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
            subject: format!("Rechnung Nr. {nr}: Rückforderung start.integration"),
            text,
            pdf,
            book: None,
        },
    )
}
