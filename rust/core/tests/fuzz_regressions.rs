//! Replays the fuzz harnesses on hand-made seeds (checking that they reach
//! the paths they are meant to), on the seed corpus the fuzzing in CI
//! starts from (`rust/core/fuzz/corpus/`), and on every input saved under
//! `rust/core/fuzz/regressions/` (crashes once found, now fixed).

use rustws_core::fuzz_support::{
    client_frames, client_upgrade, extensions, forwarded, proxy_answer, proxy_header,
    server_upgrade,
};
use std::path::PathBuf;

const UPGRADE: &[u8] = b"GET /f HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

#[test]
fn server_seed_reaches_open_and_reads_a_masked_frame() {
    for chunk in [1u8, 3, 64, 255] {
        let mut data = vec![chunk];
        data.extend_from_slice(UPGRADE);
        data.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
        let out = server_upgrade(&data);
        assert!(out.opened, "chunk {chunk}");
        assert_eq!(out.packets, vec![b"hi".to_vec()], "chunk {chunk}");
    }
}

#[test]
fn client_seed_reads_fragments_and_the_servers_close() {
    let frames = [
        0x01, 0x02, b'a', b'b', 0x89, 0x00, 0x80, 0x01, b'c', 0x88, 0x02, 0x0f, 0xa0,
    ];
    let mut data = vec![5u8];
    data.extend_from_slice(&frames);
    let out = client_frames(&data);
    assert!(out.opened);
    assert_eq!(out.packets, vec![b"abc".to_vec()]);
    assert_eq!(out.close_code, 4000);
}

/// Replays every input under `fuzz/regressions/<harness>/`: none may panic,
/// each must end with a close code a peer may report (-1 or 1000-4999), and
/// those listed in the folder's `expected` file (`name close_code` lines) must
/// end with exactly that code.
#[test]
fn saved_inputs_end_in_a_defined_state() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for (dir, harness) in [
        ("server_upgrade", server_upgrade as fn(&[u8]) -> _),
        ("client_frames", client_frames),
    ] {
        let folder = root.join(dir);
        let expected_text = std::fs::read_to_string(folder.join("expected"))
            .unwrap_or_else(|e| panic!("{}/expected: {e}", folder.display()));
        let expected: Vec<(&str, i32)> = expected_text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (name, code) = l.split_once(' ').expect("name code");
                (name, code.trim().parse().expect("a close code"))
            })
            .collect();
        let mut replayed = 0;
        for entry in std::fs::read_dir(&folder)
            .expect("the regressions folder")
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().to_string();
            if name == "expected" {
                continue;
            }
            let data = std::fs::read(entry.path()).expect("readable regression input");
            let out = harness(&data);
            assert!(
                out.close_code == -1 || (1000..=4999).contains(&out.close_code),
                "{dir}/{name}: close code {}",
                out.close_code
            );
            if let Some((_, code)) = expected.iter().find(|(n, _)| *n == name) {
                assert_eq!(out.close_code, *code, "{dir}/{name}");
            }
            replayed += 1;
        }
        assert!(
            replayed >= expected.len() && replayed > 0,
            "{dir}: {replayed} inputs replayed, {} expected",
            expected.len()
        );
    }
}

/// Each seed of the corpus reaches the path its name says, so fuzzing
/// starts from inputs that get past the parsers' first checks.
#[test]
fn corpus_seeds_reach_their_paths() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let read = |target: &str, name: &str| {
        std::fs::read(root.join(target).join(name))
            .unwrap_or_else(|e| panic!("corpus/{target}/{name}: {e}"))
    };
    let up = server_upgrade(&read("server_upgrade", "upgrade-then-text"));
    assert_eq!(up.packets, vec![b"hi".to_vec()]);
    assert!(server_upgrade(&read("server_upgrade", "upgrade-with-deflate-offer")).opened);
    assert_eq!(
        client_frames(&read("client_frames", "fragments-ping-close")).packets,
        vec![b"abc".to_vec()]
    );
    let deflated = client_upgrade(&read("client_upgrade", "accepted-with-deflate"));
    assert!(deflated.opened, "{deflated:?}");
    assert!(client_upgrade(&read("client_upgrade", "accepted-plain")).opened);
    assert!(!client_upgrade(&read("client_upgrade", "refused-403")).opened);
    assert!(proxy_answer(&read("proxy_answer", "established")));
    assert!(!proxy_answer(&read("proxy_answer", "wants-credentials")));
    assert!(extensions(&read("extensions", "client-window")));
    assert!(extensions(&read("extensions", "two-offers")));
    assert_eq!(proxy_header(&read("proxy_header", "v1-tcp4")), Some(41));
    assert_eq!(proxy_header(&read("proxy_header", "v2-ipv4-tlv")), Some(34));
    assert_eq!(proxy_header(&read("proxy_header", "v2-local")), Some(16));
    assert_eq!(
        forwarded(&read("forwarded", "xff-chain")),
        Some("203.0.113.7:0".parse().unwrap())
    );
    assert_eq!(
        forwarded(&read("forwarded", "forwarded-v6")),
        Some("[2001:db8:cafe::17]:4711".parse().unwrap())
    );
    // Every file of the corpus runs through its harness without a panic.
    for (target, harness) in [
        (
            "server_upgrade",
            (|d: &[u8]| drop(server_upgrade(d))) as fn(&[u8]),
        ),
        ("client_frames", |d| drop(client_frames(d))),
        ("client_upgrade", |d| drop(client_upgrade(d))),
        ("proxy_answer", |d| {
            proxy_answer(d);
        }),
        ("extensions", |d| {
            extensions(d);
        }),
        ("proxy_header", |d| {
            proxy_header(d);
        }),
        ("forwarded", |d| {
            forwarded(d);
        }),
    ] {
        for entry in std::fs::read_dir(root.join(target))
            .expect("corpus folder")
            .flatten()
        {
            harness(&std::fs::read(entry.path()).expect("a corpus file"));
        }
    }
}
