//! The fields of the two form templates (FORMS.md, version 2022) and the columns of the
//! `Vertragsgemeinden` table, as enums: [`FormField`], [`Common`] and [`TableColumn`].
//!
//! Code names a field by its variant, never by a string: a typo does not compile. The one
//! table that maps each variant to its defined name (`SI_EG_ANZAHL`, …), its label in
//! column A and its row in the template is here ([`REPORTING_FIELDS`], [`SD_FIELDS`]); the
//! reader ([`crate::extract`]), the validator, the templates and the feedback workbooks all
//! take them from it. [`FormField::parse`] reads a defined name found in a file.
//!
//! It decides nothing about values and knows nothing of reading, validating or writing: only
//! the shared types of [`crate::domain`].

use crate::domain::{Component, CountField, FormKind};

/// A field of the Reportingformular (`Si…`, Anhang Nr. 2) or of the Selbstdeklaration
/// (`Sd…`, Anhang Nr. 3), in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FormField {
    SiVersion,
    SiGemeinde,
    SiBfsNr,
    SiJahr,
    SiHalbjahr,
    SiBeauftragte,
    SiEmail,
    SiDatum,
    SiEgAnzahl,
    SiEgDolmetsch,
    SiEgDolmetschAndere,
    SiEgPersonen,
    SiInfomappen,
    SiNeuzuzuege,
    SiIgAnzahl,
    SiIgDolmetsch,
    SiMeldungen,
    SiBemerkungen,
    SdVersion,
    SdGemeinde,
    SdBfsNr,
    SdJahr,
    SdBeauftragte,
    SdFunktion,
    SdEmail,
    SdLeitgemeinde,
    SdQOrganisation,
    SdQAnlaufstelle,
    SdQErstinfo,
    SdQAngebote,
    SdQIntegrationsgespraeche,
    SdQVernetzung,
    SdBemerkungen,
    SdDatum,
}

/// A field of a template: the field, its defined name, its label in column A and its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub field: FormField,
    /// The defined name in the templates (`SI_EG_ANZAHL`).
    pub name: &'static str,
    pub label: &'static str,
    /// One-based row in the template of version 2022.
    pub row: u32,
}

const fn spec(field: FormField, name: &'static str, label: &'static str, row: u32) -> FieldSpec {
    FieldSpec { field, name, label, row }
}

use FormField as F;

/// Every field of both templates, in the order of [`FormField`]: the one place the defined
/// names, labels and rows are written.
const SPECS: &[FieldSpec; FormField::ALL.len()] = &[
    // The Reportingformular (Anhang Nr. 2), version 2022 rows.
    spec(F::SiVersion, "SI_VERSION", "Formularversion", 2),
    spec(F::SiGemeinde, "SI_GEMEINDE", "Gemeinde", 4),
    spec(F::SiBfsNr, "SI_BFS_NR", "BFS-Nr.", 5),
    spec(F::SiJahr, "SI_JAHR", "Berichtsjahr", 6),
    spec(F::SiHalbjahr, "SI_HALBJAHR", "Halbjahr", 7),
    spec(F::SiBeauftragte, "SI_BEAUFTRAGTE", "Integrationsbeauftragte/r", 8),
    spec(F::SiEmail, "SI_EMAIL", "E-Mail", 9),
    spec(F::SiDatum, "SI_DATUM", "Eingereicht am", 10),
    spec(F::SiEgAnzahl, "SI_EG_ANZAHL", "Erstinformationsgespräche", 13),
    spec(F::SiEgDolmetsch, "SI_EG_DOLMETSCH", "Erstinformationsgespräche mit Dolmetschenden (HEKS Linguadukt)", 14),
    spec(F::SiEgDolmetschAndere, "SI_EG_DOLMETSCH_ANDERE", "Erstinformationsgespräche mit anderen Dolmetschenden", 15),
    spec(F::SiEgPersonen, "SI_EG_PERSONEN", "Informierte Personen", 16),
    spec(F::SiInfomappen, "SI_INFOMAPPEN", "Abgegebene Infomappen ohne Gespräch", 17),
    spec(F::SiNeuzuzuege, "SI_NEUZUZUEGE", "Neuzugezogene aus dem Ausland", 18),
    spec(F::SiIgAnzahl, "SI_IG_ANZAHL", "Integrationsgespräche", 21),
    spec(F::SiIgDolmetsch, "SI_IG_DOLMETSCH", "Integrationsgespräche mit Dolmetschenden (HEKS Linguadukt)", 22),
    spec(F::SiMeldungen, "SI_MELDUNGEN", "Meldungen an den Kanton", 23),
    spec(F::SiBemerkungen, "SI_BEMERKUNGEN", "Bemerkungen", 25),
    // The Selbstdeklaration (Anhang Nr. 3).
    spec(F::SdVersion, "SD_VERSION", "Formularversion", 2),
    spec(F::SdGemeinde, "SD_GEMEINDE", "Gemeinde", 4),
    spec(F::SdBfsNr, "SD_BFS_NR", "BFS-Nr.", 5),
    spec(F::SdJahr, "SD_JAHR", "Jahr", 6),
    spec(F::SdBeauftragte, "SD_BEAUFTRAGTE", "Integrationsbeauftragte/r", 7),
    spec(F::SdFunktion, "SD_FUNKTION", "Funktion", 8),
    spec(F::SdEmail, "SD_EMAIL", "E-Mail", 9),
    spec(F::SdLeitgemeinde, "SD_LEITGEMEINDE", "Leitgemeinde", 10),
    spec(F::SdQOrganisation, "SD_Q_ORGANISATION", "Die Leistungserbringung ist organisatorisch geregelt.", 12),
    spec(
        F::SdQAnlaufstelle,
        "SD_Q_ANLAUFSTELLE",
        "Eine Anlauf- und Koordinationsstelle für Integration wird geführt.",
        13,
    ),
    spec(
        F::SdQErstinfo,
        "SD_Q_ERSTINFO",
        "Die Erstinformation aller Neuzugezogenen aus dem Ausland ist sichergestellt.",
        14,
    ),
    spec(F::SdQAngebote, "SD_Q_ANGEBOTE", "Angebote zur Förderung der sozialen Integration bestehen.", 15),
    spec(
        F::SdQIntegrationsgespraeche,
        "SD_Q_INTEGRATIONSGESPRAECHE",
        "Integrationsgespräche werden bei Bedarf geführt.",
        16,
    ),
    spec(
        F::SdQVernetzung,
        "SD_Q_VERNETZUNG",
        "Die Verantwortlichen nehmen an Einführungskursen und Vernetzungstreffen teil.",
        17,
    ),
    spec(F::SdBemerkungen, "SD_BEMERKUNGEN", "Bemerkungen", 19),
    spec(F::SdDatum, "SD_DATUM", "Datum", 20),
];

/// How many fields the Reportingformular has (the first ones of [`FormField::ALL`]).
const N_REPORTING: usize = 18;

/// The Reportingformular (Anhang Nr. 2), version 2022 rows, in template order.
pub const REPORTING_FIELDS: &[FieldSpec] = SPECS.split_at(N_REPORTING).0;

/// The Selbstdeklaration (Anhang Nr. 3), in template order.
pub const SD_FIELDS: &[FieldSpec] = SPECS.split_at(N_REPORTING).1;

/// The fields of a form kind, in template order.
pub fn fields_of(kind: FormKind) -> &'static [FieldSpec] {
    match kind {
        FormKind::Reporting => REPORTING_FIELDS,
        FormKind::Selbstdeklaration => SD_FIELDS,
    }
}

impl FormField {
    /// Every field of both forms: the Reportingformular's, then the Selbstdeklaration's.
    pub const ALL: [FormField; 34] = [
        F::SiVersion,
        F::SiGemeinde,
        F::SiBfsNr,
        F::SiJahr,
        F::SiHalbjahr,
        F::SiBeauftragte,
        F::SiEmail,
        F::SiDatum,
        F::SiEgAnzahl,
        F::SiEgDolmetsch,
        F::SiEgDolmetschAndere,
        F::SiEgPersonen,
        F::SiInfomappen,
        F::SiNeuzuzuege,
        F::SiIgAnzahl,
        F::SiIgDolmetsch,
        F::SiMeldungen,
        F::SiBemerkungen,
        F::SdVersion,
        F::SdGemeinde,
        F::SdBfsNr,
        F::SdJahr,
        F::SdBeauftragte,
        F::SdFunktion,
        F::SdEmail,
        F::SdLeitgemeinde,
        F::SdQOrganisation,
        F::SdQAnlaufstelle,
        F::SdQErstinfo,
        F::SdQAngebote,
        F::SdQIntegrationsgespraeche,
        F::SdQVernetzung,
        F::SdBemerkungen,
        F::SdDatum,
    ];

    /// The field's line of the template table.
    pub const fn spec(self) -> &'static FieldSpec {
        &SPECS[self as usize]
    }
    /// The defined name in the templates, e.g. `SI_EG_ANZAHL`.
    pub const fn name(self) -> &'static str {
        self.spec().name
    }
    /// The label in column A, e.g. `Erstinformationsgespräche`.
    pub const fn label(self) -> &'static str {
        self.spec().label
    }
    /// The one-based row in the template of version 2022.
    pub const fn row(self) -> u32 {
        self.spec().row
    }
    /// The form the field belongs to.
    pub const fn kind(self) -> FormKind {
        if (self as usize) < N_REPORTING {
            FormKind::Reporting
        } else {
            FormKind::Selbstdeklaration
        }
    }
    /// The field a defined name read from a file names. Like Excel, ignores ASCII case.
    pub fn parse(name: &str) -> Option<FormField> {
        Self::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }
    /// The field of both forms this one is, if any.
    pub fn common(self) -> Option<Common> {
        Common::ALL.into_iter().find(|c| c.of(self.kind()) == self)
    }
    /// The count of the Reportingformular this field holds, if any.
    pub fn count(self) -> Option<CountField> {
        CountField::ALL.into_iter().find(|c| c.field() == self)
    }
    /// A yes/no question of the Selbstdeklaration (the conditions of 4.2 and the others).
    pub const fn is_question(self) -> bool {
        matches!(
            self,
            F::SdQOrganisation
                | F::SdQAnlaufstelle
                | F::SdQErstinfo
                | F::SdQAngebote
                | F::SdQIntegrationsgespraeche
                | F::SdQVernetzung
        )
    }
}

/// A field both forms have, to ask for "the BFS-Nr. of this form kind".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Common {
    Version,
    Gemeinde,
    BfsNr,
    Jahr,
    Beauftragte,
    Email,
    Datum,
    Bemerkungen,
}

impl Common {
    pub const ALL: [Common; 8] = [
        Common::Version,
        Common::Gemeinde,
        Common::BfsNr,
        Common::Jahr,
        Common::Beauftragte,
        Common::Email,
        Common::Datum,
        Common::Bemerkungen,
    ];

    /// This field in a form of `kind`.
    pub const fn of(self, kind: FormKind) -> FormField {
        let reporting = matches!(kind, FormKind::Reporting);
        match self {
            Common::Version if reporting => F::SiVersion,
            Common::Version => F::SdVersion,
            Common::Gemeinde if reporting => F::SiGemeinde,
            Common::Gemeinde => F::SdGemeinde,
            Common::BfsNr if reporting => F::SiBfsNr,
            Common::BfsNr => F::SdBfsNr,
            Common::Jahr if reporting => F::SiJahr,
            Common::Jahr => F::SdJahr,
            Common::Beauftragte if reporting => F::SiBeauftragte,
            Common::Beauftragte => F::SdBeauftragte,
            Common::Email if reporting => F::SiEmail,
            Common::Email => F::SdEmail,
            Common::Datum if reporting => F::SiDatum,
            Common::Datum => F::SdDatum,
            Common::Bemerkungen if reporting => F::SiBemerkungen,
            Common::Bemerkungen => F::SdBemerkungen,
        }
    }
}

impl CountField {
    /// The field of the Reportingformular that holds this count.
    pub const fn field(self) -> FormField {
        match self {
            CountField::EgAnzahl => F::SiEgAnzahl,
            CountField::EgDolmetsch => F::SiEgDolmetsch,
            CountField::EgDolmetschAndere => F::SiEgDolmetschAndere,
            CountField::EgPersonen => F::SiEgPersonen,
            CountField::Infomappen => F::SiInfomappen,
            CountField::Neuzuzuege => F::SiNeuzuzuege,
            CountField::IgAnzahl => F::SiIgAnzahl,
            CountField::IgDolmetsch => F::SiIgDolmetsch,
            CountField::Meldungen => F::SiMeldungen,
        }
    }
}

/// A column of the `Vertragsgemeinden` table of a lead municipality's Reportingformular, in
/// template order (A to F).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableColumn {
    Bfs,
    Name,
    Eg,
    DEg,
    Ig,
    DIg,
}

impl TableColumn {
    pub const ALL: [TableColumn; 6] =
        [TableColumn::Bfs, TableColumn::Name, TableColumn::Eg, TableColumn::DEg, TableColumn::Ig, TableColumn::DIg];

    /// The header text in row 1.
    pub const fn header(self) -> &'static str {
        match self {
            TableColumn::Bfs => "BFS-Nr.",
            TableColumn::Name => "Gemeinde",
            TableColumn::Eg => "Erstinformationsgespräche",
            TableColumn::DEg => "Erstinformationsgespräche mit Dolmetschenden (HEKS Linguadukt)",
            TableColumn::Ig => "Integrationsgespräche",
            TableColumn::DIg => "Integrationsgespräche mit Dolmetschenden (HEKS Linguadukt)",
        }
    }
    /// The paid component a count column holds (`None` for BFS-Nr. and Gemeinde).
    pub const fn component(self) -> Option<Component> {
        match self {
            TableColumn::Bfs | TableColumn::Name => None,
            TableColumn::Eg => Some(Component::FallEg),
            TableColumn::DEg => Some(Component::DolmetschEg),
            TableColumn::Ig => Some(Component::FallIg),
            TableColumn::DIg => Some(Component::DolmetschIg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_table_is_in_the_order_of_the_enum() {
        for (i, f) in FormField::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(f.spec().field, f);
        }
        assert!(REPORTING_FIELDS.iter().all(|s| s.field.kind() == FormKind::Reporting));
        assert!(SD_FIELDS.iter().all(|s| s.field.kind() == FormKind::Selbstdeklaration));
        assert_eq!((REPORTING_FIELDS.len(), SD_FIELDS.len()), (18, 16));
    }

    #[test]
    fn names_are_unique_and_parse_back() {
        let names: BTreeSet<&str> = FormField::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), FormField::ALL.len());
        for f in FormField::ALL {
            assert_eq!(FormField::parse(f.name()), Some(f));
            assert_eq!(FormField::parse(&f.name().to_lowercase()), Some(f));
            let prefix = if f.kind() == FormKind::Reporting { "SI_" } else { "SD_" };
            assert!(f.name().starts_with(prefix), "{}", f.name());
        }
        assert_eq!(FormField::parse("SI_EG_ANZAHL"), Some(FormField::SiEgAnzahl));
        assert_eq!(FormField::parse("SD_HALBJAHR"), None);
        assert_eq!(FormField::parse("SI_EG_ANZAHL "), None);
        assert_eq!(FormField::parse(""), None);
    }

    #[test]
    fn labels_and_rows_are_unique_within_a_form() {
        for kind in [FormKind::Reporting, FormKind::Selbstdeklaration] {
            let specs = fields_of(kind);
            assert_eq!(specs.iter().map(|s| s.label).collect::<BTreeSet<_>>().len(), specs.len());
            assert_eq!(specs.iter().map(|s| s.row).collect::<BTreeSet<_>>().len(), specs.len());
        }
    }

    #[test]
    fn common_fields_name_the_same_thing_in_both_forms() {
        let pairs: Vec<(&str, &str)> = Common::ALL
            .iter()
            .map(|c| (c.of(FormKind::Reporting).name(), c.of(FormKind::Selbstdeklaration).name()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("SI_VERSION", "SD_VERSION"),
                ("SI_GEMEINDE", "SD_GEMEINDE"),
                ("SI_BFS_NR", "SD_BFS_NR"),
                ("SI_JAHR", "SD_JAHR"),
                ("SI_BEAUFTRAGTE", "SD_BEAUFTRAGTE"),
                ("SI_EMAIL", "SD_EMAIL"),
                ("SI_DATUM", "SD_DATUM"),
                ("SI_BEMERKUNGEN", "SD_BEMERKUNGEN"),
            ]
        );
        for c in Common::ALL {
            assert_eq!(c.of(FormKind::Reporting).common(), Some(c));
            assert_eq!(c.of(FormKind::Selbstdeklaration).common(), Some(c));
        }
        assert_eq!(FormField::SiHalbjahr.common(), None);
        assert_eq!(FormField::SdLeitgemeinde.common(), None);
    }

    #[test]
    fn every_count_has_its_own_reporting_field() {
        let got: Vec<&str> = CountField::ALL.iter().map(|c| c.field().name()).collect();
        assert_eq!(
            got,
            [
                "SI_EG_ANZAHL",
                "SI_EG_DOLMETSCH",
                "SI_EG_DOLMETSCH_ANDERE",
                "SI_EG_PERSONEN",
                "SI_INFOMAPPEN",
                "SI_NEUZUZUEGE",
                "SI_IG_ANZAHL",
                "SI_IG_DOLMETSCH",
                "SI_MELDUNGEN",
            ]
        );
        for c in CountField::ALL {
            assert_eq!(c.field().count(), Some(c));
        }
        assert_eq!(FormField::SiBfsNr.count(), None);
        assert_eq!(FormField::ALL.iter().filter(|f| f.is_question()).count(), 6);
    }

    #[test]
    fn table_columns_in_template_order() {
        assert_eq!(TableColumn::ALL.map(|c| c as usize), [0, 1, 2, 3, 4, 5]);
        assert_eq!(TableColumn::Bfs.header(), "BFS-Nr.");
        assert_eq!(TableColumn::DIg.header(), "Integrationsgespräche mit Dolmetschenden (HEKS Linguadukt)");
        let paid: Vec<_> = TableColumn::ALL.iter().filter_map(|c| c.component()).collect();
        assert_eq!(paid, [Component::FallEg, Component::DolmetschEg, Component::FallIg, Component::DolmetschIg]);
    }

    /// The defined names are written in the table above and nowhere else in the crate's code.
    #[test]
    fn no_defined_name_literal_outside_the_table() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("fields.rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    // Unit tests may name a defined name as a file would hold it.
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    for f in FormField::ALL {
                        if code.contains(&format!("\"{}\"", f.name())) {
                            found.push(format!("{}: {}", p.display(), f.name()));
                        }
                    }
                }
            }
        }
        assert!(found.is_empty(), "{found:?}");
    }
}
