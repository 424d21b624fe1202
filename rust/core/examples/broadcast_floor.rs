//! The socket floor of a broadcast (tests/bench/broadcast.gd): the same
//! WebSocket frame written to N sockets with one `write` each, as nothing
//! can do with fewer system calls, timed per round. The readers drain
//! between rounds, outside the measured part.
//! Usage: broadcast_floor [CLIENTS=1000] [ROUNDS=300] [BYTES=32]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let clients = args.first().copied().unwrap_or(1000);
    let rounds = args.get(1).copied().unwrap_or(300);
    let bytes = args.get(2).copied().unwrap_or(32).min(125);
    let mut frame = vec![0x81, bytes as u8];
    frame.resize(2 + bytes, b'x');
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut pairs = Vec::with_capacity(clients);
    for _ in 0..clients {
        let reader = TcpStream::connect(addr)?;
        let (writer, _) = listener.accept()?;
        writer.set_nodelay(true)?;
        writer.set_nonblocking(true)?;
        reader.set_nonblocking(true)?;
        pairs.push((writer, reader));
    }
    let mut times = Vec::with_capacity(rounds);
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..rounds {
        let start = Instant::now();
        for (writer, _) in pairs.iter_mut() {
            writer.write_all(&frame)?;
        }
        times.push(start.elapsed().as_micros() as u64);
        for (_, reader) in pairs.iter_mut() {
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
        }
    }
    times.sort_unstable();
    let mean = times.iter().sum::<u64>() / times.len().max(1) as u64;
    println!(
        "{{\"bench\":\"broadcast\",\"case\":\"floor: one write per socket (Rust)\",\"clients\":{clients},\"frames\":{rounds},\"bytes\":{bytes},\"median_us\":{},\"p90_us\":{},\"mean_us\":{mean}}}",
        times[times.len() / 2],
        times[times.len() * 9 / 10]
    );
    Ok(())
}
