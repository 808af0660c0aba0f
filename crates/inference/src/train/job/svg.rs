//! `loss_curve.svg`: train and eval loss over steps as a plain line chart, written by hand so
//! the crate needs no plotting dependency.

use std::fmt::Write;

use super::state::CurveRow;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 45.0;
const TICKS: usize = 5;

struct Axes {
    max_step: f64,
    low: f64,
    high: f64,
}

impl Axes {
    fn x(&self, step: f64) -> f64 {
        LEFT + step / self.max_step * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, loss: f64) -> f64 {
        TOP + (self.high - loss) / (self.high - self.low) * (HEIGHT - TOP - BOTTOM)
    }
}

/// The chart of `rows`; one with no finite loss is an empty frame saying so.
pub(crate) fn loss_chart(rows: &[CurveRow]) -> String {
    let train = series(rows, |r| r.train_loss);
    let eval = series(rows, |r| r.eval_loss);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let Some(axes) = axes(&train, &eval) else {
        svg.push_str("<text x=\"320\" y=\"180\" text-anchor=\"middle\">no loss recorded yet</text>\n</svg>\n");
        return svg;
    };
    draw_axes(&mut svg, &axes);
    draw_line(&mut svg, &axes, &train, "#1f77b4");
    draw_line(&mut svg, &axes, &eval, "#ff7f0e");
    draw_legend(&mut svg, !train.is_empty(), !eval.is_empty());
    svg.push_str("</svg>\n");
    svg
}

fn series(rows: &[CurveRow], pick: impl Fn(&CurveRow) -> Option<f64>) -> Vec<(f64, f64)> {
    rows.iter()
        .filter_map(|r| {
            pick(r)
                .filter(|v| v.is_finite())
                .map(|v| (r.step as f64, v))
        })
        .collect()
}

fn axes(train: &[(f64, f64)], eval: &[(f64, f64)]) -> Option<Axes> {
    let all = || train.iter().chain(eval);
    let low = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let high = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if !low.is_finite() {
        return None;
    }
    // A flat curve still needs a non-empty range.
    let pad = ((high - low) * 0.05).max(1e-3);
    let max_step = all().map(|p| p.0).fold(1.0, f64::max);
    Some(Axes {
        max_step,
        low: (low - pad).max(0.0),
        high: high + pad,
    })
}

fn draw_axes(svg: &mut String, axes: &Axes) {
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    let _ = writeln!(
        svg,
        "<path d=\"M{LEFT} {TOP} V{bottom} H{right}\" stroke=\"black\" fill=\"none\"/>"
    );
    for i in 0..=TICKS {
        let f = i as f64 / TICKS as f64;
        let loss = axes.low + f * (axes.high - axes.low);
        let y = axes.y(loss);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{right}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{loss:.3}</text>",
            LEFT - 5.0,
            y + 4.0
        );
        let step = (f * axes.max_step).round();
        let x = axes.x(step);
        let _ = writeln!(
            svg,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{step}</text>",
            bottom + 15.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">step</text>\
         <text x=\"15\" y=\"{:.1}\" transform=\"rotate(-90 15 {:.1})\" text-anchor=\"middle\">loss</text>",
        (LEFT + right) / 2.0,
        HEIGHT - 8.0,
        HEIGHT / 2.0,
        HEIGHT / 2.0
    );
}

fn draw_line(svg: &mut String, axes: &Axes, points: &[(f64, f64)], color: &str) {
    if points.is_empty() {
        return;
    }
    let coords: Vec<String> = points
        .iter()
        .map(|&(s, l)| format!("{:.1},{:.1}", axes.x(s), axes.y(l)))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>",
        coords.join(" ")
    );
    if points.len() == 1 {
        let (x, y) = (axes.x(points[0].0), axes.y(points[0].1));
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{color}\"/>"
        );
    }
}

fn draw_legend(svg: &mut String, train: bool, eval: bool) {
    let entries = [
        (train, "train loss", "#1f77b4"),
        (eval, "eval loss", "#ff7f0e"),
    ];
    let mut x = LEFT + 10.0;
    for (_, label, color) in entries.iter().filter(|e| e.0) {
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"10\" width=\"12\" height=\"3\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"15\">{label}</text>",
            x + 16.0
        );
        x += 90.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: usize, train: Option<f64>, eval: Option<f64>) -> CurveRow {
        CurveRow {
            step,
            train_loss: train,
            eval_loss: eval,
            eval_exact_match: None,
            lr: 0.0,
            tokens: 0,
        }
    }

    #[test]
    fn draws_one_polyline_per_series_inside_the_frame() {
        let rows = [
            row(0, None, Some(3.0)),
            row(1, Some(3.2), None),
            row(2, Some(2.0), Some(2.5)),
        ];
        let svg = loss_chart(&rows);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("train loss") && svg.contains("eval loss"));
        let first = svg.split("points=\"").nth(1).unwrap();
        let (x, y) = first.split(' ').next().unwrap().split_once(',').unwrap();
        let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
        assert!((LEFT..=WIDTH - RIGHT).contains(&x) && (TOP..=HEIGHT - BOTTOM).contains(&y));
    }

    #[test]
    fn no_loss_is_an_empty_frame_not_a_nan() {
        let svg = loss_chart(&[row(1, Some(f64::NAN), None)]);
        assert!(svg.contains("no loss recorded yet"));
        assert!(!svg.contains("NaN"));
    }
}
