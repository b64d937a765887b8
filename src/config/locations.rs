//! Line and column of every node in a YAML document, by YAML path, so errors found after
//! parsing (by serde or validation) can still point into the file.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser};

/// YAML path (`a.b[2].c`) to 1-based (line, column).
#[derive(Debug, Default, Clone)]
pub struct Locations(HashMap<String, (usize, usize)>);

enum Frame {
    Map { path: String, key: Option<(String, (usize, usize))> },
    Seq { path: String, next: usize },
}

impl Locations {
    /// Walks the first document of `text`. Unparseable text yields an empty map (the parse
    /// error itself is reported by the deserializer, with its own location).
    pub fn of(text: &str) -> Self {
        let mut map = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let at = (span.start.line(), span.start.col() + 1);
            match event {
                Event::DocumentEnd => break,
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                        if key.is_none() {
                            *key = Some((value.into_owned(), at));
                            continue;
                        }
                    }
                    if let Some((path, at)) = node_path(&mut stack, at) {
                        map.entry(path).or_insert(at);
                    }
                }
                Event::Alias(_) => {
                    if let Some((path, at)) = node_path(&mut stack, at) {
                        map.entry(path).or_insert(at);
                    }
                }
                Event::MappingStart(..) => {
                    let (path, at) = node_path(&mut stack, at).unwrap_or((String::new(), at));
                    map.entry(path.clone()).or_insert(at);
                    stack.push(Frame::Map { path, key: None });
                }
                Event::SequenceStart(..) => {
                    let (path, at) = node_path(&mut stack, at).unwrap_or((String::new(), at));
                    map.entry(path.clone()).or_insert(at);
                    stack.push(Frame::Seq { path, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        Locations(map)
    }

    /// The location of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(at) = self.0.get(p) {
                return Some(*at);
            }
            if p.is_empty() {
                return None;
            }
            let cut = p.rfind(['.', '[']).unwrap_or(0);
            p = &p[..cut];
        }
    }
}

/// The path of the node starting at `at`, consuming the pending map key or sequence slot. A map
/// entry is located at its key, where a reader looks for it.
fn node_path(stack: &mut [Frame], at: (usize, usize)) -> Option<(String, (usize, usize))> {
    match stack.last_mut()? {
        Frame::Map { path, key } => {
            let (key, key_at) = key.take()?;
            Some((super::join(path, &key), key_at))
        }
        Frame::Seq { path, next } => {
            let p = super::index(path, *next);
            *next += 1;
            Some((p, at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_list_items_and_falls_back_to_the_parent() {
        let text = "export:\n  interval: 30s\ncollectors:\n  crds:\n    resources:\n      - name: a\n      - name: b\n        metrics: []\n";
        let l = Locations::of(text);
        assert_eq!(l.find("export.interval"), Some((2, 3)));
        assert_eq!(l.find("collectors.crds.resources[1].name"), Some((7, 9)));
        assert_eq!(l.find("collectors.crds.resources[1].metrics"), Some((8, 9)));
        assert_eq!(l.find("collectors.crds.resources[1].missing"), Some((7, 9)));
    }
}
