//! Where Python string literals span lines, found by a lexical scan of the text (no parser):
//! a line that starts inside a triple-quoted string is string content, not code. Used before
//! parsing (an `!` or `%` at the start of such a line is not an IPython escape) and when code
//! is re-indented (string contents keep their exact text).

/// For each line of `text` (as `str::lines` counts them), whether it starts inside a string.
/// Lines `skip` says are not Python (IPython escapes) are not scanned.
pub(crate) fn lines_inside_strings(text: &str, skip: impl Fn(&str) -> bool) -> Vec<bool> {
    let mut inside = Vec::new();
    // The open quote, if a string spans lines: a triple quote, or a single one continued with
    // a backslash at the end of the line.
    let mut open: Option<&str> = None;
    for line in text.lines() {
        inside.push(open.is_some());
        if open.is_none() && skip(line) {
            continue;
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if let Some(quote) = open {
                if bytes[i..].starts_with(quote.as_bytes()) {
                    open = None;
                    i += quote.len();
                } else {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                continue;
            }
            match bytes[i] {
                b'#' => break,
                b'"' | b'\'' => {
                    let (triple, single) = if bytes[i] == b'"' {
                        ("\"\"\"", "\"")
                    } else {
                        ("\'\'\'", "'")
                    };
                    if bytes[i..].starts_with(triple.as_bytes()) {
                        open = Some(triple);
                        i += 3;
                    } else {
                        // A one-line string: skip to its closing quote, or to the line's end.
                        open = Some(single);
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        // A one-quote string still open at the end of its line continues on the next only
        // after a backslash (`i` stepped past the end over it); otherwise it is unterminated.
        if open.is_some_and(|quote| quote.len() == 1) && i <= bytes.len() {
            open = None;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::lines_inside_strings;

    #[test]
    fn lines_of_triple_quoted_strings_are_found() {
        let text = "x = '''\n%(a)s\n!b'''\ny = \"# not '''\"\n# '''\nz = \"\"\"a\\\"\"\"\"\n!ls\n";
        assert_eq!(
            lines_inside_strings(text, |l| l.starts_with('!')),
            vec![false, true, true, false, false, false, false]
        );
    }

    #[test]
    fn a_one_quote_string_continued_with_a_backslash_spans_lines() {
        let text =
            "c = 'u\\\nv'; d = \"\"\"w\n!x\n\"\"\"\nprint(c, 'open\nok')\ne = 'a\\\\\nf = 1\n";
        assert_eq!(
            lines_inside_strings(text, |l| l.starts_with('!')),
            vec![false, true, true, true, false, false, false, false]
        );
    }
}
