//! The editor help of our classes, as godot-rust hands it to the editor
//! (`register-docs`): every method, property and enum constant must be
//! described. Runs in plain `cargo test`; the pages as the editor shows
//! them are checked by tests/editor (Godot's `--doctool` cannot show them,
//! as it builds its XML from ClassDB alone).

/// The text between `open` and `close` after `from`, and where it ends.
fn between<'a>(xml: &'a str, from: usize, open: &str, close: &str) -> Option<(&'a str, usize)> {
    let start = xml[from..].find(open)? + from + open.len();
    let end = xml[start..].find(close)? + start;
    Some((&xml[start..end], end + close.len()))
}

/// Problems in one class page.
fn problems(xml: &str, constants: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let brief = between(xml, 0, "<brief_description>", "</brief_description>");
    if brief.map_or(true, |(b, _)| b.trim().is_empty()) {
        out.push("no brief description".to_string());
    }
    let mut at = 0;
    let mut methods = 0;
    while let Some((name, after)) = between(xml, at, "<method name=\"", "\"") {
        methods += 1;
        let described = between(xml, after, "<description>", "</description>")
            .is_some_and(|(d, _)| !d.trim().is_empty());
        if !described {
            out.push(format!("method {name} has no description"));
        }
        at = after;
    }
    if methods == 0 {
        out.push("no methods on the page".to_string());
    }
    let mut at = 0;
    while let Some((name, after)) = between(xml, at, "<signal name=\"", "\"") {
        let described = between(xml, after, "<description>", "</description>")
            .is_some_and(|(d, _)| !d.trim().is_empty());
        if !described {
            out.push(format!("signal {name} has no description"));
        }
        at = after;
    }
    let mut at = 0;
    while let Some((head, after)) = between(xml, at, "<member ", ">") {
        let (text, next) = between(xml, after - 1, ">", "</member>").unwrap_or(("", after));
        if text.trim().is_empty() {
            out.push(format!("member {head} has no description"));
        }
        at = next;
    }
    for c in constants {
        let described = between(xml, 0, &format!("<constant name=\"{c}\""), "</constant>")
            .and_then(|(entry, _)| entry.split_once('>'))
            .is_some_and(|(_, text)| !text.trim().is_empty());
        if !described {
            out.push(format!("constant {c} has no description"));
        }
    }
    out
}

#[test]
fn every_method_property_and_constant_is_documented() {
    let pages: Vec<String> = crate::binding::help_pages();
    let expected = [
        (
            "RustWebSocketPeer",
            &[
                "STATE_CONNECTING",
                "STATE_OPEN",
                "STATE_CLOSING",
                "STATE_CLOSED",
                "WRITE_MODE_TEXT",
                "WRITE_MODE_BINARY",
            ][..],
        ),
        ("RustWebSocketMultiplayerPeer", &[][..]),
        (
            "RustWebSocketClient",
            &["POLL_PROCESS", "POLL_PHYSICS", "POLL_MANUAL"][..],
        ),
        (
            "RustWebSocketServer",
            &["POLL_PROCESS", "POLL_PHYSICS", "POLL_MANUAL"][..],
        ),
    ];
    let mut all = Vec::new();
    for (class, constants) in expected {
        let page = pages
            .iter()
            .find(|p| p.contains(&format!("<class name=\"{class}\"")));
        let Some(page) = page else {
            all.push(format!("{class}: no help page"));
            continue;
        };
        assert!(
            page.contains("<member "),
            "{class}: no properties on the page"
        );
        if class == "RustWebSocketClient" {
            for signal in [
                "connected",
                "message_received",
                "closed",
                "reconnecting",
                "messages_dropped",
            ] {
                assert!(
                    page.contains(&format!("<signal name=\"{signal}\"")),
                    "{class}: signal {signal} is not on the page"
                );
            }
        }
        let direct = match class {
            "RustWebSocketPeer" => crate::peer::calls::HELP,
            "RustWebSocketMultiplayerPeer" => crate::multiplayer::calls::HELP,
            _ => &[],
        };
        {
            // The directly bound methods have their help added by hand.
            for m in direct {
                if !page.contains(&format!("<method name=\"{}\">", m.name)) {
                    all.push(format!(
                        "{class}: directly bound {} is not on the page",
                        m.name
                    ));
                }
            }
        }
        all.extend(
            problems(page, constants)
                .into_iter()
                .map(|p| format!("{class}: {p}")),
        );
    }
    assert!(all.is_empty(), "undocumented:\n{}", all.join("\n"));
}

#[test]
fn the_checker_notices_gaps() {
    let page = r#"<class name="X"><brief_description>Short.</brief_description>
<description>Names A.</description><methods>
<method name="good"><description>Does it.</description></method>
<method name="bad"><description>
  </description></method></methods>
<members><member name="p" type="int">Described.</member><member name="q" type="int"></member></members>
<signals><signal name="s"><param index="0" name="a" type="int" /><description>Sent.</description></signal><signal name="u"><description></description></signal></signals>
<constants><constant name="A" value="0" enum="E">Named.</constant><constant name="B" value="1" enum="E"></constant></constants></class>"#;
    let found = problems(page, &["A", "B"]);
    assert_eq!(
        found,
        vec![
            "method bad has no description".to_string(),
            "signal u has no description".to_string(),
            "member name=\"q\" type=\"int\" has no description".to_string(),
            "constant B has no description".to_string(),
        ]
    );
}
