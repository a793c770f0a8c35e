//! The graph as SVG, laid out and drawn by the layout-rs crate (no Graphviz needed) from the
//! DOT text we write, which its parser reads: a DOT that does not parse is a bug, reported as
//! such. layout-rs draws no clusters, so the flat DOT is drawn, each task naming its groups.

use layout::backends::svg::SVGWriter;
use layout::gv::{DotParser, GraphBuilder};

use super::Graph;

/// The SVG; an error only if layout-rs cannot read our DOT, which is a bug of ours (tests read
/// every example's back).
pub(super) fn render(graph: &Graph) -> Result<String, String> {
    let dot = super::dot::render_flat(graph);
    let mut parser = DotParser::new(&dot);
    let ast = parser.process().map_err(|error| {
        format!("layout-rs cannot read the graph's DOT ({error}); this is a bug of automlops")
    })?;
    let mut builder = GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut visual = builder.get();
    let mut svg = SVGWriter::new();
    visual.do_it(false, false, false, &mut svg);
    let mut text = svg.finalize();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}
