//! Google-style docstrings: the summary describes a component, `Args:` describe its inputs.

/// The description (summary and following paragraphs, up to the first section) and the
/// per-argument descriptions.
pub(crate) fn parse(doc: &str) -> (Option<String>, Vec<(String, String)>) {
    let lines = dedent(doc);
    let mut description: Vec<&str> = Vec::new();
    let mut args: Vec<(String, String)> = Vec::new();
    let mut section: Option<&str> = None;
    let mut arg_indent = None;
    for line in &lines {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_suffix(':')
            && line.len() == line.trim_start().len()
            && matches!(
                header,
                "Args"
                    | "Arguments"
                    | "Parameters"
                    | "Returns"
                    | "Raises"
                    | "Yields"
                    | "Example"
                    | "Examples"
                    | "Note"
                    | "Notes"
            )
        {
            section = Some(header);
            arg_indent = None;
            continue;
        }
        match section {
            None => description.push(trimmed),
            Some("Args" | "Arguments" | "Parameters") => {
                if trimmed.is_empty() {
                    continue;
                }
                let indent = line.len() - line.trim_start().len();
                let first_indent = *arg_indent.get_or_insert(indent);
                if indent <= first_indent {
                    if let Some((name, text)) = trimmed.split_once(':') {
                        // `name (type): text`
                        let name = name
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        args.push((name, text.trim().to_owned()));
                    }
                } else if let Some((_, text)) = args.last_mut() {
                    // kfp (docstring_parser) keeps a description's line breaks.
                    text.push('\n');
                    text.push_str(trimmed);
                }
            }
            Some(_) => {}
        }
    }
    let description = description.join("\n").trim().to_owned();
    let description = (!description.is_empty()).then_some(description);
    // An empty description is none: kfp's IR (protobuf) leaves an empty string out.
    args.retain(|(_, text)| !text.is_empty());
    (description, args)
}

/// A parameter description as kfp reads it back from an `Args:` entry of a docstring: each line
/// trimmed, blank lines left out; `None` when nothing is left.
pub(crate) fn arg_description(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// `inspect.cleandoc`: tabs expanded, the first line as is, the others dedented by their
/// common indent.
fn dedent(doc: &str) -> Vec<String> {
    let doc = expand_tabs(doc);
    let mut lines = doc.lines();
    let first = lines.next().unwrap_or_default().trim().to_owned();
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    std::iter::once(first)
        .chain(
            rest.iter()
                .map(|l| l.get(indent..).unwrap_or("").trim_end().to_owned()),
        )
        .collect()
}

/// Python's `str.expandtabs()`: each tab becomes the spaces up to the next multiple of 8
/// columns of its line.
fn expand_tabs(text: &str) -> String {
    if !text.contains('\t') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut column = 0;
    for c in text.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn google_style_summary_and_args() {
        let (description, args) = parse(
            "Trains a model.\n\n    Args:\n        data_path: where the data is,\n            on GCS.\n        n (int): trees.\n    Returns:\n        nothing\n    ",
        );
        assert_eq!(description.as_deref(), Some("Trains a model."));
        assert_eq!(
            args,
            vec![
                (
                    "data_path".to_owned(),
                    "where the data is,\non GCS.".to_owned()
                ),
                ("n".to_owned(), "trees.".to_owned())
            ]
        );
    }

    #[test]
    fn tabs_count_as_python_expands_them() {
        let (description, args) =
            parse("\n\tSummary.\n\n        Args:\n\t    a: first\n                line two.\n");
        assert_eq!(description.as_deref(), Some("Summary."));
        assert_eq!(args, vec![("a".to_owned(), "first\nline two.".to_owned())]);
    }
}
