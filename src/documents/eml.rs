//! E-mail drafts (`Entwuerfe/*.eml`) for each letter and invoice: addressed to the
//! municipality's contact, with the PDF and the workbook attached, marked `X-Unsent: 1` so
//! that Outlook opens them for editing. Date, Message-ID and MIME boundary are derived from
//! the run, so the same inputs give the same bytes.

use super::{answer_by, doc_error, invoice, letter, long_date, sender, stem};
use crate::compute::Invoice;
use crate::domain::chf_text;
use crate::domain::Bfs;
use crate::write::{OutFile, RunData, WriteError};
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

fn build(d: &RunData<'_>, dr: Draft<'_>) -> Result<OutFile, WriteError> {
    let s = sender(d);
    let domain = s.email.split_once('@').map(|(_, h)| h.to_string()).unwrap_or_else(|| "localhost".into());
    let id = format!("{}-{}-{}-{}@{domain}", dr.kind, d.year, dr.bfs, d.run_date.format("%Y%m%d"));
    let boundary = format!("beitraege-{}-{}-{}", dr.kind, d.year, dr.bfs);
    let timestamp = d.run_date.and_hms_opt(8, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default();
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
    if let Some(c) = d.master.adressen.municipalities.get(&dr.bfs).filter(|c| !c.email.is_empty()) {
        let name = if c.contact_person.is_empty() { c.address.name.as_str() } else { c.contact_person.as_str() };
        m = m.to(MailAddress::new_address(Some(name), c.email.as_str()));
    }
    let m = m.body(MimePart::new(ContentType::new("multipart/mixed").attribute("boundary", boundary.as_str()), parts));
    let bytes = m.write_to_vec().map_err(|e| doc_error(&dr.rel, e))?;
    Ok(OutFile { rel: dr.rel, bytes })
}

const GREETING: &str = "Sehr geehrte Damen und Herren";

fn closing(d: &RunData<'_>) -> String {
    let s = sender(d);
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
        closing(d)
    );
    build(
        d,
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

/// The draft that sends an invoice with the municipality's workbook (its feedback workbook,
/// else the annex).
pub fn invoice_draft(
    d: &RunData<'_>,
    inv: &Invoice,
    pdf: &OutFile,
    book: Option<&OutFile>,
) -> Result<OutFile, WriteError> {
    let nr = invoice::number(d, inv);
    let text = format!(
        "{},\n\nim Anhang erhalten Sie unsere Rechnung Nr. {nr} über CHF {} für die Rückforderung \
         start.integration {} (Ziffer 4.7), zahlbar bis am {}.\n\n{}",
        GREETING,
        chf_text(inv.amount),
        d.year,
        long_date(answer_by(d)),
        closing(d)
    );
    build(
        d,
        Draft {
            rel: format!("{FOLDER}/{}_Rechnung.eml", stem(d, inv.bfs)),
            kind: "rechnung",
            bfs: inv.bfs,
            subject: format!("Rechnung Nr. {nr}: Rückforderung start.integration {}", d.year),
            text,
            pdf,
            book,
        },
    )
}
