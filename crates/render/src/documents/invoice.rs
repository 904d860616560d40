//! The invoice (PDF) of a payout run (4.7), rendered from the run's
//! [`InvoiceDoc`](crate::payout::InvoiceDoc): its number, date and due date, the
//! calculation (the claims, what the run's payout covered, the rest invoiced), and a Swiss
//! QR-bill payment part (SIX IG 2.3) whose creditor reference is derived from the number:
//! receipt 62 × 105 mm and payment part 148 × 105 mm at the foot of an A4 page, QR code
//! 46 × 46 mm with the Swiss cross, error correction level M. The same document from the
//! booked run and from the ledger later gives the same bytes.

use super::pdf::{self, Meta, Page, MIN_SIZE};
use super::qrbill::{self, QrBill};
use super::{creditor_of, doc_error, leading, letterhead, long_date, recipient_of, sender_of, stem_of, Creditor, Flow};
use crate::adressen::Address;
use crate::domain::{chf_text, fmt_date};
use crate::payout::{Art, InvoiceDoc};
use crate::stammdaten::Stammdaten;
use crate::write::{OutFile, WriteError};
use rust_decimal::Decimal;

/// The most a QR-bill can carry (IG 2.3: up to 999 999 999.99).
pub const QR_MAX: Decimal = Decimal::from_parts(1_215_752_191, 23, 0, false, 2);

/// The invoice's number as printed (a preview has none yet).
pub fn number(inv: &InvoiceDoc) -> String {
    inv.number.clone().unwrap_or_else(|| "(Entwurf)".to_string())
}

pub fn file_name(master: &Stammdaten, inv: &InvoiceDoc) -> String {
    format!("Rechnungen/{}_{}.pdf", number(inv).replace(['(', ')'], ""), stem_of(master, inv.payee))
}

/// Why an invoice has no payment part, if it has none.
pub fn no_payment_part(master: &Stammdaten, inv: &InvoiceDoc) -> Option<String> {
    if inv.number.is_none() {
        return Some("Entwurf: Die Rechnungsnummer wird erst beim Buchen vergeben.".into());
    }
    if creditor_of(master).is_none() {
        return Some("Die Stammdaten nennen kein Konto des Kantons (Blatt «Kantonskonto»).".into());
    }
    if inv.amount.decimal() > QR_MAX {
        return Some(format!(
            "Der Betrag übersteigt CHF {}, was ein QR-Zahlteil tragen kann.",
            chf_text(crate::domain::Chf::new(QR_MAX))
        ));
    }
    None
}

/// The QR-bill of an invoice to the creditor's account.
pub fn bill(master: &Stammdaten, inv: &InvoiceDoc, creditor: &Creditor) -> Result<QrBill, qrbill::QrError> {
    let nr = number(inv);
    let (to, contact) = recipient_of(master, inv.payee);
    let debtor = contact.map(|_| to).filter(|a: &Address| !a.postcode.is_empty() && !a.town.is_empty());
    Ok(QrBill {
        iban: creditor.iban.clone(),
        creditor: creditor.address.clone(),
        amount: Some(inv.amount.decimal()),
        debtor,
        reference: qrbill::rf_reference(&nr)?,
        message: format!("Rechnung {nr}, Rückforderung start.integration"),
    })
}

fn claim_label(master: &Stammdaten, c: &crate::payout::Claim) -> String {
    let name = master.municipality(c.bfs).map(|m| m.name.clone()).unwrap_or_default();
    match c.art {
        Art::Rueckforderung => format!("Rückforderung {name} ({}): {}", c.bfs, c.text),
        _ => format!("Korrektur {name} ({}), {}: {}", c.bfs, c.periode, c.text),
    }
}

/// Renders the invoice.
pub fn write(master: &Stammdaten, inv: &InvoiceDoc) -> Result<OutFile, WriteError> {
    let rel = file_name(master, inv);
    let nr = number(inv);
    let name = master.municipality(inv.payee).map(|m| m.name.clone()).unwrap_or_default();
    let s = sender_of(master);
    let (to, contact) = recipient_of(master, inv.payee);
    let mut to_lines = to.lines();
    if let Some(c) = contact.filter(|c| !c.contact_person.is_empty()) {
        to_lines.insert(1, format!("z. Hd. {}", c.contact_person));
    }
    let why_none = no_payment_part(master, inv);
    let qr = match (&why_none, creditor_of(master)) {
        (None, Some(c)) => {
            Some(bill(master, inv, &c).and_then(|b| b.payload().map(|p| (b, p))).map_err(|e| doc_error(&rel, e))?)
        }
        _ => None,
    };
    let mut first = Page::default();
    let subject = format!("Rechnung Nr. {nr}: Rückforderung Beiträge start.integration");
    let y = letterhead(&mut first, &s, &to_lines, inv.date, &subject);
    // Body text down to just above the payment part's separator label.
    let mut f = Flow::new(first, y, PART_TOP - 5.0);
    let body = 10.0;
    f.para("Sehr geehrte Damen und Herren", body, false, 0.0, 2.5);
    f.para(
        &format!(
            "Die Forderungen an {name} (BFS-Nr. {}) übersteigen die Auszahlung des Zahlungslaufs per {}, \
             mit der sie verrechnet werden (Ziffer 4.7 des Kreisschreibens). Den Rest stellen wir in Rechnung:",
            inv.payee,
            fmt_date(inv.stichtag)
        ),
        body,
        false,
        0.0,
        2.0,
    );
    for c in &inv.claims {
        f.amount_line(&claim_label(master, c), &format!("CHF {}", chf_text(c.amount)), body, false);
        f.y += 0.8;
    }
    f.amount_line(
        &format!("Verrechnet mit der Auszahlung per {}", fmt_date(inv.stichtag)),
        &format!("– CHF {}", chf_text(inv.offset)),
        body,
        false,
    );
    f.y += 0.8;
    f.amount_line(
        &format!("Rechnungsbetrag (Rechnung Nr. {nr})"),
        &format!("CHF {}", chf_text(inv.amount)),
        body,
        true,
    );
    f.y += 2.0;
    let last = match (&qr, &why_none) {
        (Some((b, _)), _) => format!(
            "Zahlbar bis am {} (30 Tage nach Rechnungsdatum) auf das Konto {} mit der Referenz {}, am \
             einfachsten mit dem Zahlteil unten.",
            long_date(inv.due_on),
            qrbill::grouped(&b.iban),
            qrbill::grouped(&b.reference)
        ),
        (None, why) => format!(
            "Zahlbar bis am {} (30 Tage nach Rechnungsdatum). Kein Zahlteil: {}",
            long_date(inv.due_on),
            why.as_deref().unwrap_or("")
        ),
    };
    // The last paragraph and the closing stay together (telephone and e-mail stand in the
    // letterhead): the closing never stands alone on a page.
    let closing_h = leading(body) * 2.0 + 0.5;
    f.keep(super::para_height(&last, body, false, 0.0, 2.0) + closing_h);
    f.para(&last, body, false, 0.0, 2.0);
    f.para("Freundliche Grüsse", body, false, 0.0, 0.5);
    f.para(&s.address.name, body, true, 0.0, 0.0);
    // The payment part needs the foot of a page: a page of its own if the text reaches it.
    if f.y > PART_TOP - 6.0 {
        f.pages.push(Page::default());
    }
    let label = format!("Rechnung Nr. {nr} – {name} ({})", inv.payee);
    let mut pages = f.finish(&label);
    if let Some(last) = pages.last_mut() {
        // The footer would sit inside the payment part: drop it from that page.
        last.ops.retain(|op| !matches!(op, pdf::Op::Text { y, .. } if *y > 280.0));
        match (&qr, &why_none) {
            (Some((b, payload)), _) => payment_part(last, b, payload).map_err(|e| doc_error(&rel, e))?,
            (None, why) => last.text(
                super::LEFT,
                PART_TOP + 10.0,
                10.0,
                true,
                format!("Kein Zahlteil: {}", why.as_deref().unwrap_or("")),
            ),
        }
    }
    let meta = Meta { title: &label, author: &s.address.name, subject: &subject, date: inv.date };
    let bytes = pdf::render(&pages, &meta).map_err(|e| doc_error(&rel, e))?;
    Ok(OutFile { rel, bytes })
}

/// Top of the payment part on the page, in millimetres (297 − 105).
pub const PART_TOP: f32 = 192.0;

/// Draws the QR code, 46 × 46 mm, at (`x`, `y`), with the Swiss cross in the middle.
fn qr_code(p: &mut Page, x: f32, y: f32, payload: &str) -> Result<(), qrbill::QrError> {
    let (dark, w) = qrbill::matrix(payload)?;
    let m = 46.0 / w as f32;
    for r in 0..w {
        for c in 0..w {
            if dark[r * w + c] {
                p.rect(x + c as f32 * m, y + r as f32 * m, m, m, 0);
            }
        }
    }
    swiss_cross(p, x + 23.0, y + 23.0);
    Ok(())
}

/// The Swiss cross, 7 × 7 mm with its white border, centred on (`cx`, `cy`).
pub fn swiss_cross(p: &mut Page, cx: f32, cy: f32) {
    p.rect(cx - 3.5, cy - 3.5, 7.0, 7.0, 255);
    p.rect(cx - 3.0, cy - 3.0, 6.0, 6.0, 0);
    let (len, bar) = (3.9, 1.17);
    p.rect(cx - bar / 2.0, cy - len / 2.0, bar, len, 255);
    p.rect(cx - len / 2.0, cy - bar / 2.0, len, bar, 255);
}

/// Heading and value lines of an information block; returns the next baseline.
#[allow(clippy::too_many_arguments)]
fn block(p: &mut Page, x: f32, y: f32, width: f32, head: &str, head_size: f32, lines: &[String], size: f32) -> f32 {
    p.text(x, y, head_size, true, head);
    let mut y = y + leading(size);
    for l in lines {
        for w in pdf::wrap(l, width, size, false) {
            p.text(x, y, size, false, w);
            y += leading(size);
        }
    }
    y + leading(size) * 0.6
}

/// Blank corner marks of a field the debtor fills in by hand.
fn corners(p: &mut Page, x: f32, y: f32, w: f32, h: f32) {
    let l = 3.0;
    let t = 0.2;
    for (cx, cy, dx, dy) in [(x, y, 1.0, 1.0), (x + w, y, -1.0, 1.0), (x, y + h, 1.0, -1.0), (x + w, y + h, -1.0, -1.0)]
    {
        p.line(cx, cy, cx + dx * l, cy, t);
        p.line(cx, cy, cx, cy + dy * l, t);
    }
}

fn address_lines(a: &Address) -> Vec<String> {
    a.lines()
}

/// The receipt and the payment part (IG 2.3, section 3.5) at the foot of `p`.
pub fn payment_part(p: &mut Page, b: &QrBill, payload: &str) -> Result<(), qrbill::QrError> {
    let top = PART_TOP;
    p.text_right(136.0, top - 1.5, MIN_SIZE, false, "Vor der Einzahlung abzutrennen");
    p.dashed(0.0, top, 210.0, top);
    p.dashed(62.0, top, 62.0, 297.0);
    let amount = b.amount.map(qrbill::amount_text).unwrap_or_default();
    let mut creditor = vec![qrbill::grouped(&b.iban)];
    creditor.extend(address_lines(&b.creditor));
    let reference = vec![qrbill::grouped(&b.reference)];

    // Receipt: 5 mm margins, title 11 pt, headings 6 pt, values 8 pt.
    p.text(5.0, top + 9.0, 11.0, true, "Empfangsschein");
    let mut y = top + 14.0;
    y = block(p, 5.0, y, 52.0, "Konto / Zahlbar an", 6.0, &creditor, 8.0);
    y = block(p, 5.0, y, 52.0, "Referenz", 6.0, &reference, 8.0);
    match &b.debtor {
        Some(a) => {
            block(p, 5.0, y, 52.0, "Zahlbar durch", 6.0, &address_lines(a), 8.0);
        }
        None => {
            p.text(5.0, y, 6.0, true, "Zahlbar durch (Name/Adresse)");
            corners(p, 5.0, y + 1.5, 52.0, 20.0);
        }
    }
    p.text(5.0, top + 68.0, 6.0, true, "Währung");
    p.text(20.0, top + 68.0, 6.0, true, "Betrag");
    p.text(5.0, top + 72.0, 8.0, false, "CHF");
    p.text(20.0, top + 72.0, 8.0, false, &amount);
    p.text_right(57.0, top + 84.0, 6.0, true, "Annahmestelle");

    // Payment part: title, QR code, amount; information on the right.
    p.text(67.0, top + 9.0, 11.0, true, "Zahlteil");
    qr_code(p, 67.0, top + 17.0, payload)?;
    p.text(67.0, top + 72.0, 8.0, true, "Währung");
    p.text(84.0, top + 72.0, 8.0, true, "Betrag");
    p.text(67.0, top + 77.0, 10.0, false, "CHF");
    p.text(84.0, top + 77.0, 10.0, false, &amount);
    let mut y = top + 9.0;
    y = block(p, 118.0, y, 87.0, "Konto / Zahlbar an", 8.0, &creditor, 10.0);
    y = block(p, 118.0, y, 87.0, "Referenz", 8.0, &reference, 10.0);
    y = block(p, 118.0, y, 87.0, "Zusätzliche Informationen", 8.0, std::slice::from_ref(&b.message), 10.0);
    match &b.debtor {
        Some(a) => {
            block(p, 118.0, y, 87.0, "Zahlbar durch", 8.0, &address_lines(a), 10.0);
        }
        None => {
            p.text(118.0, y, 8.0, true, "Zahlbar durch (Name/Adresse)");
            corners(p, 118.0, y + 1.5, 65.0, 25.0);
        }
    }
    Ok(())
}
