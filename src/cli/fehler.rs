//! clap's own messages in German: a wrong option, value or command is explained in the
//! Kreisschreiben's language, with the usage line and where to find help. clap itself has
//! no translations, so its error kinds and context are rendered here.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Parses a whole number for an option, with a German message.
pub fn whole<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim().parse::<T>().map_err(|_| format!("«{s}» ist keine zulässige ganze Zahl"))
}

fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    err.get(kind).map(|v| match v {
        ContextValue::String(s) => s.clone(),
        ContextValue::Strings(v) => v.join("», «"),
        ContextValue::StyledStr(s) => s.to_string(),
        ContextValue::StyledStrs(v) => v.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("», «"),
        ContextValue::Number(n) => n.to_string(),
        ContextValue::Bool(b) => if *b { "ja" } else { "nein" }.to_string(),
        _ => String::new(),
    })
}

/// The German message for a command-line error (without usage and help hint).
pub fn message(err: &clap::Error) -> String {
    let arg = context(err, ContextKind::InvalidArg).unwrap_or_default();
    let value = context(err, ContextKind::InvalidValue).unwrap_or_default();
    let suggestion = |kind| {
        context(err, kind)
            .filter(|s| !s.is_empty())
            .map(|s| format!(" Gemeint ist vielleicht «{s}»?"))
            .unwrap_or_default()
    };
    match err.kind() {
        ErrorKind::InvalidValue => {
            let valid = context(err, ContextKind::ValidValue).map(|v| format!(" Zulässig: «{v}».")).unwrap_or_default();
            if value.is_empty() {
                format!("Für {arg} fehlt ein Wert.{valid}")
            } else {
                format!("Ungültiger Wert «{value}» für {arg}.{valid}")
            }
        }
        ErrorKind::ValueValidation => {
            let why = std::error::Error::source(err).map(|s| format!(": {s}")).unwrap_or_default();
            format!("Ungültiger Wert «{value}» für {arg}{why}.")
        }
        ErrorKind::UnknownArgument => {
            format!("Unbekannte Option «{arg}».{}", suggestion(ContextKind::SuggestedArg))
        }
        ErrorKind::InvalidSubcommand => {
            let sub = context(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("Unbekannter Befehl «{sub}».{}", suggestion(ContextKind::SuggestedSubcommand))
        }
        ErrorKind::NoEquals => format!("Die Option {arg} verlangt ihren Wert mit «=»."),
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("Falsche Anzahl Werte für {arg}.")
        }
        ErrorKind::ArgumentConflict => {
            let prior = context(err, ContextKind::PriorArg).unwrap_or_default();
            format!("Die Option {arg} kann nicht zusammen mit {prior} verwendet werden.")
        }
        ErrorKind::MissingRequiredArgument => format!("Es fehlt die Angabe «{arg}»."),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "Es fehlt der Befehl (zum Beispiel «run»).".to_string()
        }
        _ => "Die Befehlszeile ist ungültig.".to_string(),
    }
}

/// The whole German error text: message, usage line and where help is.
pub fn render(err: &clap::Error) -> String {
    let usage = context(err, ContextKind::Usage)
        .map(|u| u.trim().trim_start_matches("Usage:").trim().to_string())
        .filter(|u| !u.is_empty())
        .map(|u| format!("\n\nAufruf: {u}"))
        .unwrap_or_default();
    format!("Fehler: {}{usage}\n\nWeitere Angaben mit «--hilfe».\n", message(err))
}
