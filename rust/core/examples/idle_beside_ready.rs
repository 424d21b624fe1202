//! Benchmark: one poll's worth of idle-link checks (N idle sockets, 2 us of
//! other work each, as a peer's poll costs) while N other sockets of the
//! process have input nobody reads yet (our own clients in the server's
//! process, just sent a broadcast). Each idle check may refresh the shared
//! readiness set, and each refresh reports every ready socket: unpaced,
//! the loop grew with the square of N (1,000: 17.6 ms for 2 ms of work;
//! 3,000: 67 ms for 6); paced (`readiness::pace`) it stays near the work.
//! Run: cargo run --release -p rustws-core --example idle_beside_ready -- 1000
use rustws_core::Socket;
use rustws_core::Stream;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
fn main() {
    // The count of each kind of socket.
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(1000);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut idle = Vec::new();
    let mut ready = Vec::new();
    for _ in 0..n {
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_nonblocking(true).unwrap();
        c.set_nonblocking(true).unwrap();
        let mut ours = Socket::new(s);
        let mut b = [0u8; 4];
        let _ = ours.read(&mut b);
        let cs = Socket::new(c);
        // the other end has input waiting, never read
        ours.write_all(b"x").unwrap();
        let _ = cs.may_have_input(Instant::now());
        idle.push(ours);
        ready.push(cs);
    }
    std::thread::sleep(Duration::from_millis(80));
    let mut best = Duration::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        for s in &idle {
            let _ = s.may_have_input(Instant::now());
            let w = Instant::now();
            while w.elapsed() < Duration::from_micros(2) {}
        }
        best = best.min(t.elapsed());
    }
    println!(
        "{n} idle links beside {n} ready sockets: loop {:?} (work alone {:?})",
        best,
        Duration::from_micros(2) * n as u32
    );
}
