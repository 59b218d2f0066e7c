//! The counterexample as one self-contained HTML page: SVG swimlanes (a lane per test, a row per
//! step), the cache dir the tests share highlighted, and a slider to step through the schedule.
//! No network: styles, data and script are inline.

use super::escape;
use crate::run::Counterexample;

/// Marks files this tool wrote.
pub const MARKER: &str = "<meta name=\"generator\" content=\"mountfuzz\">";

const LANE: usize = 360;
const ROW: usize = 26;
const TOP: usize = 40;

fn head_short(name: &str) -> String {
    if name.chars().count() > 40 {
        format!(
            "…{}",
            name.chars()
                .skip(name.chars().count() - 39)
                .collect::<String>()
        )
    } else {
        name.to_string()
    }
}

/// The page for `cx`; `title` says what was run and what broke.
pub fn render(title: &str, cx: &Counterexample) -> String {
    let lanes: Vec<usize> = {
        let mut v: Vec<usize> = cx.history.iter().map(|r| r.test).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let width = 70 + LANE * lanes.len().max(1);
    let height = TOP + ROW * (cx.history.len() + 1);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"timeline\">\n"
    );
    for (li, t) in lanes.iter().enumerate() {
        let x = 70 + li * LANE;
        svg.push_str(&format!(
            "<rect class=\"lane\" x=\"{x}\" y=\"0\" width=\"{}\" height=\"{height}\"/>\n<text class=\"head\" x=\"{}\" y=\"24\"><title>{}</title>[{t}] {}</text>\n",
            LANE - 8,
            x + 8,
            escape(&cx.tests[*t]),
            escape(&head_short(&cx.tests[*t]))
        ));
    }
    for (i, r) in cx.history.iter().enumerate() {
        let y = TOP + i * ROW;
        let li = lanes.iter().position(|t| *t == r.test).unwrap_or(0);
        let x = 70 + li * LANE;
        let on_hot = r.key.is_some_and(|k| cx.shared_keys.contains(&k));
        let short: String = if r.text.chars().count() > 46 {
            format!("{}…", r.text.chars().take(45).collect::<String>())
        } else {
            r.text.clone()
        };
        let class = if on_hot { "step hot" } else { "step" };
        svg.push_str(&format!(
            "<g class=\"{class}\" id=\"s{i}\"><title>{}</title><text class=\"num\" x=\"8\" y=\"{}\">{}</text><rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{}\" rx=\"4\"/><text x=\"{}\" y=\"{}\">{}</text></g>\n",
            escape(&r.text),
            y + 17,
            r.step,
            x + 4,
            LANE - 16,
            ROW - 4,
            x + 10,
            y + 17,
            escape(&short)
        ));
    }
    svg.push_str("</svg>\n");
    let steps: Vec<serde_json::Value> = cx
        .history
        .iter()
        .map(|r| serde_json::json!({"step": r.step, "test": cx.tests[r.test], "text": r.text}))
        .collect();
    // Inside <script>, "</" must not appear: it would end the script.
    let data = serde_json::to_string(&steps)
        .expect("serialises")
        .replace("</", "<\\/");
    let shared: String = cx
        .shared_dirs
        .iter()
        .map(|(dir, target, tests)| {
            let names: Vec<&str> = tests.iter().map(|t| cx.tests[*t].as_str()).collect();
            format!(
                "<p>Shared cache dir: <code class=\"hotdir\">{}</code> (target <code>{}</code>; used by {})</p>\n",
                escape(dir),
                escape(target),
                escape(&names.join(", "))
            )
        })
        .collect();
    let violation = cx
        .violation
        .as_ref()
        .map(|v| {
            format!(
                "<p class=\"violation\">Violation at step {} [{}]: {}</p>",
                v.step,
                v.oracle,
                escape(&v.message)
            )
        })
        .unwrap_or_else(|| "<p>No violation: the schedule ran cleanly.</p>".into());
    let n = cx.history.len();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">{MARKER}
<title>mountfuzz: {title_e}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; }}
.violation {{ background: #fde8e8; border-left: 4px solid #c0392b; padding: 8px 12px; }}
code.hotdir {{ background: #fff3cd; padding: 1px 4px; }}
.lane {{ fill: #f7f7f9; }}
.head {{ font-weight: 600; font-size: 13px; }}
.step rect {{ fill: #e8eef7; stroke: #9fb3d1; }}
.step.hot rect {{ fill: #fff3cd; stroke: #d4a017; }}
.step text {{ font: 12px ui-monospace, monospace; }}
.step .num {{ fill: #888; }}
.step.future {{ opacity: 0.15; }}
.step.current rect {{ stroke: #c0392b; stroke-width: 2.5; }}
#controls {{ margin: 12px 0; position: sticky; top: 0; background: #fff; padding: 6px 0; }}
#detail {{ font: 13px ui-monospace, monospace; }}
</style></head>
<body>
<h1>{title_e}</h1>
{violation}
{shared}<p>Schedule: <code>{schedule}</code> ({n} steps)</p>
<div id="controls"><button id="prev" type="button">&#9664;</button>
<input id="slider" type="range" min="1" max="{n}" value="{n}" aria-label="step">
<button id="next" type="button">&#9654;</button> <span id="detail"></span></div>
{svg}
<script>
const steps = {data};
const slider = document.getElementById('slider');
function show(k) {{
  for (let i = 0; i < steps.length; i++) {{
    const g = document.getElementById('s' + i);
    g.classList.toggle('future', i >= k);
    g.classList.toggle('current', i === k - 1);
  }}
  const s = steps[k - 1];
  document.getElementById('detail').textContent = s ? `step ${{s.step}} · ${{s.test}}: ${{s.text}}` : '';
}}
slider.addEventListener('input', () => show(+slider.value));
document.getElementById('prev').onclick = () => {{ slider.value = Math.max(1, +slider.value - 1); show(+slider.value); }};
document.getElementById('next').onclick = () => {{ slider.value = Math.min(steps.length, +slider.value + 1); show(+slider.value); }};
show(+slider.value);
</script>
</body></html>
"#,
        title_e = escape(title),
        schedule = cx.schedule,
    )
}
