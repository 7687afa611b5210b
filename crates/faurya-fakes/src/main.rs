//! `faurya-fakes [ADDR]`: runs the fake Whop and Paddle APIs for out-of-process tests.
//! Prints `Fake providers: http://ADDR` once listening; stops on SIGTERM/SIGINT.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let addr = match addr.parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("faurya-fakes: {addr} is not an address: {e}");
            std::process::exit(2);
        }
    };
    let fake = match faurya_fakes::FakeProviders::start_on(addr).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("faurya-fakes: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("Fake providers: http://{}", fake.addr);
    println!("Whop API base: {}", fake.whop_base());
    println!("Paddle API base: {}", fake.paddle_base());
    let _ = tokio::signal::ctrl_c().await;
}
