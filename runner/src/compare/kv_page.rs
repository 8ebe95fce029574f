//! What the key-value comparisons (`--preset lin-kv`, `--preset clocks`) share: the page's
//! head, a scenario in words, the readings, and a figure that may be missing.

use std::fmt::Write;

use super::Scenario;
use crate::report::html::esc;

/// A figure with `digits` decimals, or `-` when there is none.
pub fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

/// The start of `compare.html`: its title, style and heading.
pub fn head(title: &str, heading: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset='utf-8'><title>{}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}}\
         table{{border-collapse:collapse}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;\
         text-align:right}}td:first-child,td:nth-child(2),th:first-child,th:nth-child(2)\
         {{text-align:left}}.ok{{color:#1a7f37}}.bad{{color:#c62828;font-weight:bold}}\
         .unk{{color:#a66f00}}li{{margin:8px 0}}</style></head><body><h1>{}</h1>",
        esc(title),
        esc(heading)
    )
}

/// A scenario as an item of the page's list: nodes, clients, rate, keys, latency, faults.
pub fn scenario_item(html: &mut String, s: &Scenario) {
    let faults = if s.nemesis.is_empty() {
        String::new()
    } else {
        format!(
            ", {} faults every {} s on average",
            esc(&s.nemesis.join(", ")),
            s.nemesis_interval_s
        )
    };
    let _ = write!(
        html,
        "<li><b>{}</b>: {} nodes, {} clients per node, {} ops/s for {} s on {} keys at a \
         time, latency {} ms ({}){faults}</li>",
        esc(&s.name),
        s.node_count,
        s.clients_per_node,
        s.rate,
        s.time_limit_s,
        s.key_count.unwrap_or_default(),
        s.latency_ms,
        esc(s.latency_dist.name()),
    );
}

/// The readings (`(variant, scenario, reading)`), and the end of the page.
pub fn readings_and_end<'a>(
    html: &mut String,
    readings: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) {
    html.push_str("</table><h2>Readings</h2><ul>");
    for (variant, scenario, reading) in readings {
        let _ = write!(
            html,
            "<li><b>{}</b> ({}): {}</li>",
            esc(variant),
            esc(scenario),
            esc(reading)
        );
    }
    html.push_str("</ul></body></html>\n");
}
