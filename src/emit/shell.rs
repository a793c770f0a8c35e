//! Shell words: every notebook value that lands in a generated script is single-quoted here,
//! so `$(...)`, quotes, spaces and newlines stay data.

/// `text` as one single-quoted shell word.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `words` as a command line's arguments: each one quoted, separated by spaces.
pub(crate) fn quote_all<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().map(quote).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{quote, quote_all};

    #[test]
    fn hostile_values_stay_one_word() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn arguments_are_quoted_one_by_one() {
        assert_eq!(quote_all(["-p", "x=a b"]), "'-p' 'x=a b'");
        assert_eq!(quote_all([]), "");
    }
}
