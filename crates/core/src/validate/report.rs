//! The Reportingformular (Anhang Nr. 2): the values of the main sheet, their consistency
//! (5.3), and for a Leitgemeinde the `Vertragsgemeinden` table with its sum check.

use super::{check_count, quote, Ctx, ReportDoc, Share, Sink};
use crate::domain::{
    ymd, Bfs, Code, Component, Components, CountField, FormVersion, PaidCounts, Period, Place, PERIOD_COMPONENTS,
};
use crate::extract::{RawForm, TableRow};
use crate::fields::TableColumn;
use crate::values::parse_bfs;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

#[allow(clippy::too_many_arguments)]
pub(super) fn validate_report(
    sink: &mut Sink,
    form: &RawForm,
    ctx: &Ctx<'_>,
    version: FormVersion,
    bfs: Bfs,
    period: Period,
    submitted: Option<NaiveDate>,
    received: Option<NaiveDate>,
) -> ReportDoc {
    let master = ctx.master;
    let day = period.last_day();
    let members = master.members_of(bfs, day);
    let is_lead = !members.is_empty();
    let population = |b: Bfs| master.sockel_base(b, ctx.year).ok();
    let area_population: Option<u64> = if is_lead {
        members.iter().try_fold(0u64, |acc, m| acc.checked_add(population(*m)?))
    } else {
        population(bfs)
    };

    // Values of the main sheet.
    let mut usable: BTreeMap<CountField, Option<u64>> = BTreeMap::new();
    let mut withheld: BTreeSet<Component> = BTreeSet::new();
    for cf in CountField::ALL {
        if !cf.in_version(version) {
            usable.insert(cf, Some(0));
            continue;
        }
        let field = cf.field();
        let f = form.field(field);
        let u = check_count(sink, f, field.label());
        if u.is_none() {
            withhold_for_error(cf, &mut withheld);
        }
        if let (Some(n), Some(pop)) = (u, area_population) {
            if n > pop {
                sink.at(
                    Code::WertUnplausibel,
                    f,
                    field.label(),
                    Some(format!("{n} gemeldet, ausländische Wohnbevölkerung {pop}")),
                );
            }
        }
        usable.insert(cf, u);
    }
    let get = |cf: CountField| usable.get(&cf).copied().flatten();
    let field_of = |cf: CountField| form.field(cf.field());

    // Integrationsgespräche before 2022 (4.3.1).
    if period.year < 2022 {
        for cf in [CountField::IgAnzahl, CountField::IgDolmetsch] {
            if get(cf).is_some_and(|n| n > 0) {
                let f = field_of(cf);
                sink.at(Code::IgVor2022, f, cf.field().label(), Some(period.label()));
                withheld.insert(Component::FallIg);
                withheld.insert(Component::DolmetschIg);
            }
        }
    }
    // Consistency (5.3).
    for (talks, interp, code) in [
        (CountField::EgAnzahl, CountField::EgDolmetsch, Component::DolmetschEg),
        (CountField::IgAnzahl, CountField::IgDolmetsch, Component::DolmetschIg),
    ] {
        if let (Some(t), Some(i)) = (get(talks), get(interp)) {
            if i > t {
                let f = field_of(interp);
                sink.at(
                    Code::DolmetschUeberGespraeche,
                    f,
                    interp.field().label(),
                    Some(format!("{i} Dolmetscheinsätze, {t} Gespräche")),
                );
                withheld.insert(code);
            }
        }
    }
    if let (Some(t), Some(p)) = (get(CountField::EgAnzahl), get(CountField::EgPersonen)) {
        if p < t {
            let f = field_of(CountField::EgPersonen);
            sink.at(
                Code::PersonenUnterGespraeche,
                f,
                "Informierte Personen",
                Some(format!("{p} Personen, {t} Gespräche")),
            );
        }
    }
    if let (Some(t), Some(z)) = (get(CountField::EgAnzahl), get(CountField::Neuzuzuege)) {
        if t > z {
            let f = field_of(CountField::EgAnzahl);
            sink.at(
                Code::GespraecheUeberZuzuege,
                f,
                "Erstinformationsgespräche",
                Some(format!("{t} Gespräche, {z} Neuzugezogene")),
            );
        }
    }

    let main = PaidCounts {
        eg: get(CountField::EgAnzahl).unwrap_or(0),
        d_eg: get(CountField::EgDolmetsch).unwrap_or(0),
        ig: get(CountField::IgAnzahl).unwrap_or(0),
        d_ig: get(CountField::IgDolmetsch).unwrap_or(0),
    };

    let mut shares = BTreeMap::new();
    let mut withheld_whole = false;
    match (&form.table, is_lead) {
        (Some(table), true) => {
            let (row_shares, sums, sums_ok) = table_shares(sink, &table.rows, &members, version, ctx, bfs);
            for m in &members {
                if !row_shares.contains_key(m) {
                    let name = master.municipality(*m).map(|x| x.name.as_str()).unwrap_or("?");
                    sink.at_for(
                        *m,
                        Code::LeitMitgliedFehlt,
                        None,
                        String::new(),
                        format!("{name} ({m}), {}", period.label()),
                    );
                    if let Some(f) = sink.out.last_mut() {
                        f.place = Some(Place::Sheet(table.sheet.as_str().into()));
                    }
                }
            }
            // LEIT_SUMME: the rows must add up to the main sheet's totals. The check is never
            // switched off: with an unusable cell in a column (an error, counted 0) the usable
            // rows may not exceed the total, else they must equal it. So no row, not even one
            // outside the contract, can make the members' rows pay more than the main sheet.
            for code in PERIOD_COMPONENTS {
                let cf = code.count_field();
                if !cf.in_version(version) {
                    continue;
                }
                if let Some(total) = get(cf) {
                    let sum = sums.get(code);
                    let mismatch = if sums_ok.get(code) { sum != total } else { sum > total };
                    if mismatch && !withheld_whole {
                        let f = field_of(cf);
                        sink.at(
                            Code::LeitSumme,
                            f,
                            cf.field().label(),
                            Some(format!("{}: Total {total}, Summe der Zeilen {sum}", cf.field().label())),
                        );
                        withheld_whole = true;
                    }
                }
            }
            for (m, mut s) in row_shares {
                apply_withheld(&mut s, &withheld);
                shares.insert(m, s);
            }
        }
        _ => {
            if is_lead {
                for m in members.iter().filter(|m| **m != bfs) {
                    let name = master.municipality(*m).map(|x| x.name.as_str()).unwrap_or("?");
                    sink.at_for(
                        *m,
                        Code::LeitMitgliedFehlt,
                        None,
                        String::new(),
                        format!("{name} ({m}), {}: das Blatt «Vertragsgemeinden» fehlt", period.label()),
                    );
                }
            }
            let mut s = Share { reported: main, paid: main, withheld: BTreeSet::new() };
            apply_withheld(&mut s, &withheld);
            shares.insert(bfs, s);
        }
    }
    if withheld_whole {
        for s in shares.values_mut() {
            s.paid = PaidCounts::default();
            s.withheld.extend(PERIOD_COMPONENTS);
        }
    }
    ReportDoc { rel: sink.rel.clone(), version, bfs, period, submitted, received, shares, withheld_whole }
}

/// A value error in a conversations count also withholds the interpreter amount of its kind.
fn withhold_for_error(cf: CountField, withheld: &mut BTreeSet<Component>) {
    match cf {
        CountField::EgAnzahl => {
            withheld.insert(Component::FallEg);
            withheld.insert(Component::DolmetschEg);
        }
        CountField::IgAnzahl => {
            withheld.insert(Component::FallIg);
            withheld.insert(Component::DolmetschIg);
        }
        other => {
            if let Some(c) = other.paid_as() {
                withheld.insert(c);
            }
        }
    }
}

fn apply_withheld(s: &mut Share, withheld: &BTreeSet<Component>) {
    for c in withheld {
        s.paid.set(*c, 0);
        s.withheld.insert(*c);
    }
}

type TableOutcome = (BTreeMap<Bfs, Share>, PaidCounts, Components<bool>);

/// Reads the `Vertragsgemeinden` rows: member shares, the column sums over all rows, and
/// whether each column could be summed (no unusable cell).
fn table_shares(
    sink: &mut Sink,
    rows: &[TableRow],
    members: &BTreeSet<Bfs>,
    version: FormVersion,
    ctx: &Ctx<'_>,
    lead: Bfs,
) -> TableOutcome {
    let master = ctx.master;
    let mut shares: BTreeMap<Bfs, Share> = BTreeMap::new();
    let mut sums = PaidCounts::default();
    let mut ok = Components::splat(true);
    let population = |b: Bfs| master.sockel_base(b, ctx.year).ok();
    for row in rows {
        let bf = row.get(TableColumn::Bfs);
        let nf = row.get(TableColumn::Name);
        let bfs = parse_bfs(&bf.value).or_else(|| master.resolve(&nf.value));
        let member = bfs.filter(|b| members.contains(b));
        let mut share = Share::default();
        for (col, code) in [
            (TableColumn::Eg, Component::FallEg),
            (TableColumn::DEg, Component::DolmetschEg),
            (TableColumn::Ig, Component::FallIg),
            (TableColumn::DIg, Component::DolmetschIg),
        ] {
            let cf = code.count_field();
            if !cf.in_version(version) {
                continue;
            }
            let f = row.get(col);
            if !f.found() {
                continue;
            }
            match check_count(sink, &f, col.header()) {
                Some(n) => {
                    // A member's row gets the main sheet's plausibility check, against its
                    // own foreign resident population.
                    if let Some(pop) = member.and_then(population).filter(|pop| n > *pop) {
                        sink.at(
                            Code::WertUnplausibel,
                            &f,
                            col.header(),
                            Some(format!("{n} gemeldet, ausländische Wohnbevölkerung {pop}")),
                        );
                    }
                    share.paid.set(code, n);
                    share.reported.set(code, n);
                    // Every row counts in the sum check, also a row outside the contract. Each
                    // value is at most MAX_COUNT, so a sum cannot overflow for any number of
                    // rows a sheet can hold; were it to, it could only differ from the total.
                    let sum = sums.get(code).saturating_add(n);
                    sums.set(code, sum);
                }
                None => {
                    ok.set(code, false);
                    withhold_for_error(cf, &mut share.withheld);
                }
            }
        }
        let held = share.withheld.clone();
        apply_withheld(&mut share, &held);
        match member {
            Some(b) => {
                let e = shares.entry(b).or_default();
                match (e.paid.checked_add(&share.paid), e.reported.checked_add(&share.reported)) {
                    (Some(paid), Some(reported)) => {
                        e.paid = paid;
                        e.reported = reported;
                    }
                    // Unreachable with values ≤ MAX_COUNT; if ever, nothing is paid from it.
                    _ => e.withheld.extend(PERIOD_COMPONENTS),
                }
                e.withheld.extend(share.withheld);
            }
            None => {
                let shown = if bf.value.is_empty() { nf.value.display() } else { bf.value.display() };
                let who = bfs
                    .and_then(|b| master.municipality(b))
                    .map(|m| format!("{} ({})", m.name, m.bfs))
                    .unwrap_or_else(|| format!("«{}»", quote(&shown)));
                let contract = master.membership(lead, ctx.year_end()).map(|m| m.contract.clone()).unwrap_or_default();
                sink.at_for(
                    lead,
                    Code::LeitFremdeGemeinde,
                    bf.pos.as_ref(),
                    shown,
                    format!("{who} gehört nicht zum Vertrag {contract}"),
                );
            }
        }
    }
    (shares, sums, ok)
}

impl Ctx<'_> {
    fn year_end(&self) -> NaiveDate {
        ymd(self.year, 12, 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_error_withholds_the_interpreter_amount_too() {
        let mut w = BTreeSet::new();
        withhold_for_error(CountField::EgAnzahl, &mut w);
        assert_eq!(w, BTreeSet::from([Component::FallEg, Component::DolmetschEg]));
        let mut w = BTreeSet::new();
        withhold_for_error(CountField::EgPersonen, &mut w);
        assert!(w.is_empty(), "a count that is not paid withholds nothing");
        let mut w = BTreeSet::new();
        withhold_for_error(CountField::IgDolmetsch, &mut w);
        assert_eq!(w, BTreeSet::from([Component::DolmetschIg]));
    }
}
