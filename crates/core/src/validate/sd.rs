//! The Selbstdeklaration (Anhang Nr. 3): the conditions of eligibility (4.2) and the
//! Leitgemeinde named.

use super::{quote, Ctx, SdDoc, Sink};
use crate::catalogue::unmet_text;
use crate::domain::{ymd, Bfs, Code, Unmet};
use crate::extract::RawForm;
use crate::fields::FormField;
use crate::values::parse_ja_nein;
use chrono::NaiveDate;

#[allow(clippy::too_many_arguments)]
pub(super) fn validate_sd(
    sink: &mut Sink,
    form: &RawForm,
    ctx: &Ctx<'_>,
    bfs: Bfs,
    year: i32,
    submitted: Option<NaiveDate>,
    received: Option<NaiveDate>,
) -> SdDoc {
    let master = ctx.master;
    let mut failed = Vec::new();
    let ib = form.field(FormField::SdBeauftragte);
    if ib.value.is_empty() {
        let reason = Unmet::NoOfficer;
        sink.at(Code::NichtBerechtigt, ib, "Integrationsbeauftragte/r", Some(unmet_text(&reason)));
        failed.push(reason);
    }
    for key in [FormField::SdQOrganisation, FormField::SdQAnlaufstelle, FormField::SdQErstinfo] {
        let f = form.field(key);
        if parse_ja_nein(&f.value) != Some(true) {
            let answer = (!f.value.is_empty()).then(|| quote(&f.value.display()).into_owned());
            let reason = Unmet::NotYes { question: key.label(), answer };
            sink.at(Code::NichtBerechtigt, f, key.label(), Some(unmet_text(&reason)));
            failed.push(reason);
        }
    }
    for key in [FormField::SdQAngebote, FormField::SdQIntegrationsgespraeche, FormField::SdQVernetzung] {
        let f = form.field(key);
        if parse_ja_nein(&f.value) == Some(false) {
            sink.at(Code::SdAntwortNein, f, key.label(), Some(format!("«{}»: Nein", key.label())));
        }
    }
    // The Leitgemeinde named must match the master data on 31.12. of the year.
    let lf = form.field(FormField::SdLeitgemeinde);
    let expected = master.membership(bfs, ymd(year, 12, 31)).map(|m| m.lead);
    let given = if lf.value.is_empty() { None } else { Some(master.resolve(&lf.value)) };
    let matches = match (given, expected) {
        (None, None) => true,
        (None, Some(e)) => e == bfs,
        (Some(Some(g)), Some(e)) => g == e,
        (Some(Some(g)), None) => g == bfs,
        (Some(None), _) => false,
    };
    if !matches {
        let name_of =
            |b: Bfs| master.municipality(b).map(|m| format!("{} ({b})", m.name)).unwrap_or_else(|| b.to_string());
        let exp = match expected {
            Some(e) if e != bfs => format!("Leitgemeinde laut Stammdaten: {}", name_of(e)),
            Some(_) => "laut Stammdaten ist die Gemeinde selbst Leitgemeinde".to_string(),
            None => "laut Stammdaten gehört die Gemeinde keinem Vertrag an".to_string(),
        };
        let shown = if lf.value.is_empty() { "leer".to_string() } else { format!("«{}»", quote(&lf.value.text())) };
        sink.at(Code::LeitAngabeAbweichend, lf, "Leitgemeinde", Some(format!("angegeben {shown}, {exp}")));
    }
    SdDoc { rel: sink.rel.clone(), bfs, year, submitted, received, failed }
}
