//! Server-sent events, as model providers and Aura's own run streams send them: the
//! `data` of each event, reassembled across chunk boundaries. Bytes are buffered until a
//! line ends, so a character split between two chunks arrives whole. Comments
//! (keep-alives) and the `event`/`id` fields are skipped: every protocol Aura reads also
//! carries the event's type inside its data.

#[derive(Debug, Default)]
pub struct Parser {
    buffer: Vec<u8>,
    data: Vec<String>,
}

impl Parser {
    /// Feeds bytes; returns the `data` of every event they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(offset) = self.buffer[start..].iter().position(|&b| b == b'\n') {
            let end = start + offset;
            let line = String::from_utf8_lossy(&self.buffer[start..end]);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(self.data.join("\n"));
                    self.data.clear();
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
            start = end + 1;
        }
        self.buffer.drain(..start);
        events
    }

    /// The data of an event the stream ended without a blank line after.
    pub fn finish(&mut self) -> Option<String> {
        if !self.buffer.is_empty() {
            let rest = std::mem::take(&mut self.buffer);
            let line = String::from_utf8_lossy(&rest);
            if let Some(value) = line.trim_end_matches('\r').strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
        }
        (!self.data.is_empty()).then(|| std::mem::take(&mut self.data).join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::Parser;

    #[test]
    fn events_split_across_chunks_and_keep_alives_are_skipped() {
        let mut parser = Parser::default();
        assert!(
            parser
                .feed(b": keep-alive\n\nid: 1\nevent: run_q")
                .is_empty()
        );
        assert_eq!(
            parser.feed(b"ueued\ndata: {\"id\":1}\n\n"),
            vec!["{\"id\":1}".to_owned()]
        );
        assert_eq!(
            parser.feed(b"data: a\r\ndata:b\r\n\r\ndata: c\n"),
            vec!["a\nb".to_owned()]
        );
        assert_eq!(parser.feed(b"\n"), vec!["c".to_owned()]);
    }

    #[test]
    fn a_character_split_between_chunks_arrives_whole() {
        let text = "data: héllo\n\n".as_bytes();
        let split = text.iter().position(|&b| b == 0xc3).unwrap() + 1;
        let mut parser = Parser::default();
        assert!(parser.feed(&text[..split]).is_empty());
        assert_eq!(parser.feed(&text[split..]), vec!["héllo".to_owned()]);
    }

    #[test]
    fn an_unterminated_last_event_is_kept() {
        let mut parser = Parser::default();
        assert!(parser.feed(b"data: {\"a\":1}").is_empty());
        assert_eq!(parser.finish(), Some("{\"a\":1}".to_owned()));
        assert_eq!(parser.finish(), None);
    }
}
