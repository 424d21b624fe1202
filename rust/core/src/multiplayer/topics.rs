//! Topics of a plain server, as uWebSockets and Bun have them: a client
//! subscribes to named topics, and a message published to a topic goes to
//! its subscribers (framed once, see `fanout`). A link that leaves is
//! unsubscribed from all of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The longest topic name, in bytes (a name is a key, not a message).
pub const MAX_TOPIC_LEN: usize = 1024;

/// Topics by name and the topics of each link.
#[derive(Default)]
pub(super) struct Topics {
    subscribers: HashMap<String, BTreeSet<i32>>,
    of_link: BTreeMap<i32, BTreeSet<String>>,
}

/// Why a topic name is refused, if it is.
pub(super) fn check(topic: &str) -> Result<(), String> {
    if topic.is_empty() {
        return Err("the topic name is empty".into());
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(format!(
            "the topic name is {} bytes long; at most {MAX_TOPIC_LEN}",
            topic.len()
        ));
    }
    Ok(())
}

impl Topics {
    /// Subscribes `id`; `false` when it already was.
    pub fn subscribe(&mut self, id: i32, topic: &str) -> bool {
        let added = self
            .subscribers
            .entry(topic.to_string())
            .or_default()
            .insert(id);
        if added {
            self.of_link
                .entry(id)
                .or_default()
                .insert(topic.to_string());
        }
        added
    }

    /// Unsubscribes `id`; `false` when it was not subscribed.
    pub fn unsubscribe(&mut self, id: i32, topic: &str) -> bool {
        let Some(ids) = self.subscribers.get_mut(topic) else {
            return false;
        };
        let removed = ids.remove(&id);
        if ids.is_empty() {
            self.subscribers.remove(topic);
        }
        if let Some(topics) = self.of_link.get_mut(&id) {
            topics.remove(topic);
            if topics.is_empty() {
                self.of_link.remove(&id);
            }
        }
        removed
    }

    /// The subscribers of `topic`.
    pub fn subscribers(&self, topic: &str) -> Vec<i32> {
        self.subscribers
            .get(topic)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The topics `id` is subscribed to.
    pub fn of(&self, id: i32) -> Vec<String> {
        self.of_link
            .get(&id)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Unsubscribes `id` from every topic (its link left).
    pub fn forget(&mut self, id: i32) {
        for topic in self.of_link.remove(&id).unwrap_or_default() {
            if let Some(ids) = self.subscribers.get_mut(&topic) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.subscribers.remove(&topic);
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.subscribers.clear();
        self.of_link.clear();
    }

    /// Topics with at least one subscriber.
    pub fn len(&self) -> usize {
        self.subscribers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_kept_both_ways_and_forgotten_with_the_link() {
        let mut t = Topics::default();
        assert!(t.subscribe(2, "a"));
        assert!(!t.subscribe(2, "a"));
        assert!(t.subscribe(3, "a"));
        assert!(t.subscribe(2, "b"));
        assert_eq!(t.subscribers("a"), vec![2, 3]);
        assert_eq!(t.of(2), vec!["a".to_string(), "b".to_string()]);
        assert!(t.unsubscribe(3, "a"));
        assert!(!t.unsubscribe(3, "a"));
        assert_eq!(t.subscribers("a"), vec![2]);
        t.forget(2);
        assert_eq!(t.len(), 0);
        assert!(t.of(2).is_empty());
    }

    #[test]
    fn names_are_checked() {
        assert!(check("").is_err());
        assert!(check(&"x".repeat(MAX_TOPIC_LEN + 1)).is_err());
        assert!(check(&"x".repeat(MAX_TOPIC_LEN)).is_ok());
    }
}
