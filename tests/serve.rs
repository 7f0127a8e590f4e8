//! `regharness serve` end to end: the binary is started with a state folder, the test
//! waits for `DIR/env`, then runs the real curl (seed 003's token command, through
//! `HTTPS_PROXY`, with `--cacert`) and the real skopeo (`skopeo inspect --creds`) with
//! that environment, and finally stops it with SIGTERM or SIGINT: exit status 0 within a
//! few seconds, no child process left, `DIR/env` removed and the CA kept.
//!
//! Without curl or skopeo the parts that need them print `skipped: ...` and pass, unless
//! `REGHARNESS_REQUIRE_EXTERNAL=1`, which makes them fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use regharness::serve::EnvVars;

/// seed 003's token test URL (the world's SSO is sso.redhat.com, realm rhcc).
const SEED_003_URL: &str = "https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth?service=docker-registry&client_id=curl&scope=repository:rhel:pull";
/// skopeo's own text for a 401 from the token endpoint (FIDELITY.md).
const SKOPEO_401: &str = "invalid username/password: unauthorized: Invalid username or password";
const WRONG_PASSWORD: &str = "canary-serve-wrong-pw-4b4b";
const LOGIN_SCENARIO: &str = "scenarios/login/wrong-password.yaml";
const LOGIN_PASSWORD: &str = "canary-portal-pw-7f3e9a";

/// A program on PATH, or `None` after printing why the caller skips.
fn program(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("REGHARNESS_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!("{name} not installed and REGHARNESS_REQUIRE_EXTERNAL=1");
        }
        println!("skipped: {name} not installed");
    }
    found
}

/// A running `regharness serve`; killed on drop (a failing test leaves nothing behind).
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    stdout: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    /// Starts `regharness serve ARGS --state-dir DIR/state` and waits (60 s at most)
    /// for `DIR/state/env`.
    fn start(args: &[&str]) -> (Self, EnvVars) {
        let dir = tempfile::tempdir().expect("tempdir");
        let stdout = dir.path().join("serve.out");
        let child = Command::new(env!("CARGO_BIN_EXE_regharness"))
            .arg("serve")
            .args(args)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start regharness serve");
        let mut server = Self { child, dir, stdout };
        let env_file = server.state().join("env");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(&env_file) {
                return (server, EnvVars::parse(&text));
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "serve exited ({status}) before writing env:\n{}",
                    server.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no DIR/env after 60 s:\n{}",
                server.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// What serve printed so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// The output once it contains `text`; panics with the output after `timeout`.
    fn output_containing(&self, text: &str, timeout: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let printed = self.output();
            if printed.contains(text) {
                return printed;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve never printed {text:?}:\n{printed}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Runs `program ARGS` with a cleared environment: PATH, a fresh HOME and
    /// `DIR/env`; killed after 60 s.
    fn run(&self, program: &Path, args: &[&str], env: &EnvVars) -> Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env.iter() {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().expect("output");
        println!(
            "$ {} {}\nexit {:?}\nstdout: {}\nstderr: {}",
            program.display(),
            args.join(" "),
            output.status.code(),
            String::from_utf8_lossy(&output.stdout)
                .chars()
                .take(400)
                .collect::<String>(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        output
    }

    /// Sends `signal` (`TERM`, `INT`) and waits 5 s at most; checks that no child of
    /// serve is left and that `DIR/env` is gone while the CA is kept.
    fn stop(mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id();
        let children = children_of(pid);
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "serve still running 5 s after SIG{signal}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        for child in children {
            assert!(
                !Path::new(&format!("/proc/{child}")).exists(),
                "child {child} of serve left running"
            );
        }
        assert!(!self.state().join("env").exists(), "DIR/env left behind");
        assert!(
            !self.state().join("env.sh").exists(),
            "DIR/env.sh left behind"
        );
        assert!(self.state().join("ca.pem").is_file(), "ca.pem removed");
        let out = self.output();
        assert!(out.contains("stopped ("), "{out}");
        status
    }
}

/// Pids whose parent is `pid` (from /proc; empty elsewhere).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|stat| {
                    // pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

fn get<'a>(env: &'a EnvVars, key: &str) -> &'a str {
    env.get(key)
        .unwrap_or_else(|| panic!("{key} missing from DIR/env"))
}

/// Seed 003's command through the proxy, with the world's CA: the token JSON.
fn assert_curl_token(server: &Server, env: &EnvVars, username: &str, password: &str) {
    let Some(curl) = program("curl") else { return };
    let user = format!("{username}:{password}");
    let out = server.run(
        &curl,
        &[
            "-sS",
            "--cacert",
            get(env, "REGHARNESS_CA_FILE"),
            "-u",
            &user,
            SEED_003_URL,
        ],
        env,
    );
    assert!(out.status.success(), "curl failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("token JSON");
    assert!(
        json["token"].as_str().is_some_and(|t| t.starts_with("eyJ")),
        "{json}"
    );
    assert_eq!(json["access_token"], json["token"]);
    assert!(json["expires_in"].is_u64(), "{json}");
    assert!(json["issued_at"].is_string(), "{json}");
}

/// `skopeo inspect --creds USER:PASSWORD docker://registry.redhat.io/rhel8/pcp:latest`.
fn skopeo_inspect(server: &Server, skopeo: &Path, env: &EnvVars, user: &str, pw: &str) -> Output {
    let creds = format!("{user}:{pw}");
    server.run(
        skopeo,
        &[
            "inspect",
            "--cert-dir",
            get(env, "REGHARNESS_CERT_DIR"),
            "--creds",
            &creds,
            "docker://registry.redhat.io/rhel8/pcp:latest",
        ],
        env,
    )
}

fn assert_inspected(out: &Output) {
    assert!(out.status.success(), "skopeo inspect failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect JSON");
    assert_eq!(json["Name"], "registry.redhat.io/rhel8/pcp");
}

#[test]
fn demo_world_with_real_curl_and_skopeo_then_sigterm() {
    let (server, env) = Server::start(&[]);
    // The contract's keys, with files behind the paths.
    let proxy = get(&env, "HTTPS_PROXY");
    assert!(proxy.starts_with("http://127.0.0.1:"), "{proxy}");
    assert_eq!(get(&env, "HTTP_PROXY"), proxy);
    let ca = std::fs::read_to_string(get(&env, "REGHARNESS_CA_FILE")).expect("CA file");
    assert!(ca.contains("BEGIN CERTIFICATE"));
    let cert_dir = PathBuf::from(get(&env, "REGHARNESS_CERT_DIR"));
    for host in [
        "sso.redhat.com",
        "registry.redhat.io",
        "registry.access.redhat.com",
    ] {
        assert!(cert_dir.join(host).join("ca.crt").is_file(), "{host}");
    }
    let signing =
        std::fs::read_to_string(get(&env, "REGHARNESS_SSO_SIGNING_CERT")).expect("signing cert");
    assert!(
        signing.starts_with("-----BEGIN CERTIFICATE-----"),
        "{signing}"
    );
    let username = get(&env, "REGHARNESS_DEMO_USERNAME").to_string();
    let password = get(&env, "REGHARNESS_DEMO_PASSWORD").to_string();
    assert_eq!(username, "7654321|regharness-demo");
    let printed = server.output();
    assert!(printed.contains(&format!("state folder: {}", server.state().display())));
    assert!(
        printed.contains(&format!("  HTTPS_PROXY={proxy}\n")),
        "{printed}"
    );
    assert!(printed.contains("skopeo inspect --cert-dir"), "{printed}");
    assert!(printed.contains("podman login"), "{printed}");

    assert_curl_token(&server, &env, &username, &password);
    if let Some(skopeo) = program("skopeo") {
        assert_inspected(&skopeo_inspect(
            &server, &skopeo, &env, &username, &password,
        ));
        let wrong = skopeo_inspect(&server, &skopeo, &env, &username, WRONG_PASSWORD);
        assert!(!wrong.status.success());
        let stderr = String::from_utf8_lossy(&wrong.stderr);
        assert!(stderr.contains(SKOPEO_401), "{stderr}");
        // The proxy log of serve shows the exchanges, never the password.
        // serve prints the proxy's events every 250 ms: wait for them (bounded).
        let printed = server.output_containing(
            "proxy: CONNECT registry.redhat.io:443 HTTP/1.1 -> 200",
            std::time::Duration::from_secs(10),
        );
        assert!(!printed.contains(WRONG_PASSWORD));
    }
    let status = server.stop("TERM");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn login_scenario_with_show_secrets_then_ctrl_c() {
    let (server, env) = Server::start(&[LOGIN_SCENARIO, "--show-secrets"]);
    assert_eq!(get(&env, "REGHARNESS_ACCOUNT_1_USERNAME"), "myrhusername");
    assert_eq!(get(&env, "REGHARNESS_ACCOUNT_1_PASSWORD"), LOGIN_PASSWORD);
    assert_eq!(env.get("REGHARNESS_DEMO_USERNAME"), None);
    assert_curl_token(&server, &env, "myrhusername", LOGIN_PASSWORD);
    if let Some(skopeo) = program("skopeo") {
        assert_inspected(&skopeo_inspect(
            &server,
            &skopeo,
            &env,
            "myrhusername",
            LOGIN_PASSWORD,
        ));
        // The scenario's own typo reproduces skopeo's 401 text too.
        let wrong = skopeo_inspect(
            &server,
            &skopeo,
            &env,
            "myrhusername",
            "canary-typo-pw-0e0e",
        );
        assert!(String::from_utf8_lossy(&wrong.stderr).contains(SKOPEO_401));
    }
    let status = server.stop("INT");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn passwords_stay_out_of_env_and_output_without_show_secrets() {
    let (server, env) = Server::start(&[LOGIN_SCENARIO]);
    assert_eq!(get(&env, "REGHARNESS_ACCOUNT_1_USERNAME"), "myrhusername");
    assert_eq!(env.get("REGHARNESS_ACCOUNT_1_PASSWORD"), None);
    let env_text = std::fs::read_to_string(server.state().join("env")).expect("env");
    let sh_text = std::fs::read_to_string(server.state().join("env.sh")).expect("env.sh");
    let printed = server.output();
    for text in [&env_text, &sh_text, &printed] {
        assert!(!text.contains(LOGIN_PASSWORD), "{text}");
        assert!(!text.contains("canary"), "{text}");
    }
    assert!(printed.contains("--show-secrets"), "{printed}");
    let status = server.stop("TERM");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn broken_scenario_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "description: d\nsteps: [\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_regharness"))
        .arg("serve")
        .arg(&bad)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml:"), "{stderr}");
    assert!(!dir.path().join("state/env").exists());
}
