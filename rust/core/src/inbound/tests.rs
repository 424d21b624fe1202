//! The reader's tests: frames fed in reads of every size, broken frames, and how a round of reading ends.

use super::*;

/// A frame as a client sends it (masked with key 1, 2, 3, 4).
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut f = vec![first];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Feeds `bytes` one read of `chunk` bytes at a time; collects events.
fn read_all(bytes: &[u8], chunk: usize) -> (Vec<Inbound>, Option<ReadError>) {
    struct Chunks<'a>(&'a [u8], usize);
    impl ReadUninit for Chunks<'_> {
        fn read_uninit<'a>(
            &mut self,
            buf: &'a mut [std::mem::MaybeUninit<u8>],
        ) -> io::Result<&'a mut [u8]> {
            crate::transport::read_zeroed(self, buf)
        }
    }
    impl io::Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let mut src = Chunks(bytes, chunk);
    let mut reader = Reader::new(Vec::new(), true, 1000, 64);
    let mut events = Vec::new();
    loop {
        match reader.next(&mut src) {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return (events, None),
            Err(e) => return (events, Some(e)),
        }
    }
}

/// A socket-like source: hands over everything it holds in one read,
/// counts reads, and says whether a short read means it is empty.
struct Socketish {
    held: Vec<u8>,
    reads: usize,
    drains: bool,
}

impl ReadUninit for Socketish {
    fn read_uninit<'a>(
        &mut self,
        buf: &'a mut [std::mem::MaybeUninit<u8>],
    ) -> io::Result<&'a mut [u8]> {
        self.reads += 1;
        if self.held.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.held.len());
        for (slot, b) in buf.iter_mut().zip(self.held.drain(..n)) {
            slot.write(b);
        }
        // SAFETY: the first `n` slots were written just above.
        Ok(unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), n) })
    }

    fn short_read_drains(&self) -> bool {
        self.drains
    }
}

/// Reads until `Ok(None)`; the messages.
fn read_round(reader: &mut Reader, src: &mut Socketish) -> Vec<Inbound> {
    reader.start_round(usize::MAX);
    let mut events = Vec::new();
    while let Some(e) = reader.next(src).expect("valid frames") {
        events.push(e);
    }
    events
}

#[test]
fn a_short_read_from_a_socket_ends_the_round_without_reading_again() {
    let mut bytes = masked(0x82, &[1, 2, 3]);
    bytes.extend(masked(0x81, b"hi"));
    let mut src = Socketish {
        held: bytes.clone(),
        reads: 0,
        drains: true,
    };
    let mut reader = Reader::new(Vec::new(), true, 1000, 64);
    let got = read_round(&mut reader, &mut src);
    assert_eq!(got, vec![message(&[1, 2, 3], false), message(b"hi", true)]);
    assert_eq!(
        src.reads, 1,
        "one read: it came back short, so the socket was empty"
    );
    // The next round reads again, and finds what arrived since.
    src.held = masked(0x82, &[9]);
    assert_eq!(
        read_round(&mut reader, &mut src),
        vec![message(&[9], false)]
    );
    assert_eq!(src.reads, 2);
    // A source where a short read proves nothing (TLS) is read until it
    // says it would block.
    let mut tls = Socketish {
        held: bytes,
        reads: 0,
        drains: false,
    };
    let mut reader = Reader::new(Vec::new(), true, 1000, 64);
    assert_eq!(read_round(&mut reader, &mut tls).len(), 2);
    assert_eq!(tls.reads, 2);
}

#[test]
fn a_read_that_fills_the_buffer_is_followed_by_another() {
    // 64-byte reads; a 100-byte message needs two, and the first is full.
    let payload = vec![7u8; 100];
    let mut src = Socketish {
        held: masked(0x82, &payload),
        reads: 0,
        drains: true,
    };
    let mut reader = Reader::new(Vec::new(), true, 1000, 64);
    assert_eq!(
        read_round(&mut reader, &mut src),
        vec![message(&payload, false)]
    );
}

fn message(data: &[u8], text: bool) -> Inbound {
    Inbound::Message {
        data: Bytes::copy_from_slice(data),
        text,
    }
}

#[test]
fn fragments_with_a_ping_between_in_any_read_size() {
    let mut bytes = masked(0x01, "héllo ".as_bytes());
    bytes.extend(masked(0x89, b"p"));
    bytes.extend(masked(0x80, "wörld".as_bytes()));
    bytes.extend(masked(0x82, &[1, 2, 3]));
    bytes.extend(masked(0x88, &[0x03, 0xe8, b'o', b'k']));
    for chunk in [1, 2, 3, 7, 100] {
        let (events, err) = read_all(&bytes, chunk);
        assert!(err.is_none(), "chunk {chunk}: {err:?}");
        assert_eq!(
            events,
            vec![
                Inbound::Ping(Bytes::from_static(b"p")),
                message("héllo wörld".as_bytes(), true),
                message(&[1, 2, 3], false),
                Inbound::Close(Some((1000, "ok".into()))),
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn broken_frames_are_refused_with_the_right_kind() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0x81, 0x01, b'a'], "protocol"),        // unmasked
        (masked(0x80, b"x"), "protocol"),            // continuation first
        (masked(0x09, b""), "protocol"),             // fragmented ping
        (masked(0x83, b""), "protocol"),             // reserved opcode
        (masked(0xc1, b"a"), "protocol"),            // RSV1, nothing agreed
        (masked(0x88, &[3]), "protocol"),            // 1-byte close
        (masked(0x88, &[0x03, 0xed]), "protocol"),   // close code 1005
        (masked(0x88, &[3, 0xe8, 0xff]), "utf8"),    // bad close reason
        (masked(0x81, &[0xce, 0xba, 0xff]), "utf8"), // bad text
        (masked(0x82, &[0; 1001]), "big"),           // over the limit
    ];
    for (bytes, want) in cases {
        let (_, err) = read_all(&bytes, 1000);
        let got = match err {
            Some(ReadError::Protocol(_)) => "protocol",
            Some(ReadError::InvalidUtf8) => "utf8",
            Some(ReadError::TooBig { .. }) => "big",
            other => panic!("{bytes:?}: {other:?}"),
        };
        assert_eq!(got, want, "{bytes:?}");
    }
    // Two fragments of 600 bytes: the message is over the limit.
    let mut bytes = masked(0x02, &[0; 600]);
    bytes.extend(masked(0x80, &[0; 600]));
    assert!(matches!(
        read_all(&bytes, 1000).1,
        Some(ReadError::TooBig { .. })
    ));
    // A new message while one is unfinished.
    let mut bytes = masked(0x01, b"a");
    bytes.extend(masked(0x81, b"b"));
    assert!(matches!(
        read_all(&bytes, 1000).1,
        Some(ReadError::Protocol(_))
    ));
}

#[test]
fn invalid_utf8_fails_at_the_fragment_that_has_it() {
    // The first fragment ends inside a character (fine); the second has
    // a byte that can never be valid: refused before any final frame.
    let mut bytes = masked(0x01, &[b'a', 0xe2, 0x82]);
    assert!(read_all(&bytes, 1000).1.is_none());
    bytes.extend(masked(0x00, &[0x28]));
    assert!(matches!(
        read_all(&bytes, 1000).1,
        Some(ReadError::InvalidUtf8)
    ));
}

#[test]
fn invalid_text_fails_at_the_bad_byte_before_its_frame_is_whole() {
    // Autobahn 6.4.3: one text frame in chops; the second chop has a byte
    // that can never be valid (0xf4 0x90: past U+10FFFF).
    let payload = [b'a', b'b', 0xf4, 0x90, 0x80, 0x80, b'c', b'd'];
    let frame = masked(0x81, &payload);
    for (fragmented, bytes) in [
        (false, frame),
        (true, {
            let mut b = masked(0x01, b"ok");
            b.extend(masked(0x80, &payload));
            b
        }),
    ] {
        let cut = bytes.len() - 3; // the bad bytes have arrived, not the end
        let mut src = Socketish {
            held: bytes[..cut].to_vec(),
            reads: 0,
            drains: true,
        };
        let mut reader = Reader::new(Vec::new(), true, 1000, 64);
        reader.start_round(usize::MAX);
        assert!(
            matches!(reader.next(&mut src), Err(ReadError::InvalidUtf8)),
            "fragmented: {fragmented}"
        );
    }
    // Valid text in chops (a character split between them) arrives whole.
    let text = "añb€c".repeat(30);
    let bytes = masked(0x81, text.as_bytes());
    for chunk in [1, 2, 5, 64] {
        let (events, err) = read_all(&bytes, chunk);
        assert!(err.is_none(), "chunk {chunk}: {err:?}");
        assert_eq!(
            events,
            vec![message(text.as_bytes(), true)],
            "chunk {chunk}"
        );
    }
}
