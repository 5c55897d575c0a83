//! A private PostgreSQL cluster that a test may stop and start at will, built from the Debian
//! binaries the way `scripts/db-up` builds one. Dropping it stops the cluster and removes its
//! directory, even when the test fails.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::process::free_port;

/// A cluster in its own directory under `/var/tmp`, listening on 127.0.0.1 on a free port,
/// with trust authentication for the `postgres` role.
pub struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// Creates the cluster and starts it.
    pub fn start() -> Self {
        let dir = Path::new("/var/tmp").join(format!(
            "invoice-api-test-pg-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir(&dir).unwrap();
        // From here on the guard exists, so a failure below still removes the directory.
        let mut cluster = Self {
            bin: newest_postgres_bin(),
            dir,
            port: 0,
        };
        if running_as_root() {
            // The postgres binaries refuse to run as root; the cluster belongs to `postgres`.
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&cluster.dir)
                .status()
                .unwrap();
            assert!(chown.success(), "chown postgres {}", cluster.dir.display());
        }
        let data = cluster.data();
        cluster.run_checked(
            "initdb",
            &[
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
                "-D",
                &data,
            ],
        );
        // Another test may take the free port between our look and PostgreSQL's bind.
        for attempt in 1..=3 {
            cluster.port = free_port();
            let started = cluster.pg_ctl_start();
            if started.status.success() {
                return cluster;
            }
            assert!(attempt < 3, "{}", cluster.failure("pg_ctl start", &started));
        }
        unreachable!()
    }

    /// The URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the cluster the way an administrator does: sessions are ended, then it shuts down
    /// cleanly (`pg_ctl stop -m fast`), and this returns once it has.
    pub fn stop(&self) {
        self.stop_with("fast");
    }

    /// Stops the cluster as a crash would: every server process is killed at once, nothing is
    /// flushed (`pg_ctl stop -m immediate`); the next start recovers from the log.
    pub fn crash(&self) {
        self.stop_with("immediate");
    }

    /// Starts the stopped cluster again: same data, same port. Returns once it accepts
    /// connections.
    pub fn restart(&self) {
        let started = self.pg_ctl_start();
        assert!(
            started.status.success(),
            "{}",
            self.failure("pg_ctl start", &started)
        );
    }

    /// Makes the cluster stop answering without closing a single connection, as a hung server
    /// or a network that drops packets would: every PostgreSQL process is sent SIGSTOP.
    pub fn freeze(&self) {
        assert!(self.signal_all("STOP"), "could not freeze the cluster");
    }

    /// Lets a frozen cluster go on where it stopped.
    pub fn thaw(&self) {
        assert!(self.signal_all("CONT"), "could not thaw the cluster");
    }

    /// Sends `signal` to the postmaster (first, so it starts no new process) and its children;
    /// false when the postmaster does not run.
    fn signal_all(&self, signal: &str) -> bool {
        let Some(postmaster) = self.postmaster_pid() else {
            return false;
        };
        if !send_signal(signal, postmaster) {
            return false;
        }
        for child in children_of(postmaster) {
            // A child may end between the listing and the signal; then there is nothing to do.
            let _ = send_signal(signal, child);
        }
        true
    }

    /// The postmaster's process id, from the first line of `postmaster.pid`, while it runs.
    fn postmaster_pid(&self) -> Option<u32> {
        let pid_file =
            std::fs::read_to_string(self.dir.join("data").join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }

    fn stop_with(&self, mode: &str) {
        let data = self.data();
        self.run_checked(
            "pg_ctl",
            &["-D", &data, "-m", mode, "-w", "-t", "60", "stop"],
        );
    }

    fn pg_ctl_start(&self) -> Output {
        let options = format!(
            "-p {} -k '{}' -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let (data, log) = (self.data(), self.log());
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
            ],
        )
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn log(&self) -> String {
        self.dir.join("log").display().to_string()
    }

    /// Runs one of the PostgreSQL programs as the cluster's owner, from `/` so that it never
    /// trips over a working directory that owner cannot read.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args).current_dir("/").output().unwrap()
    }

    fn run_checked(&self, program: &str, args: &[&str]) {
        let output = self.run(program, args);
        assert!(
            output.status.success(),
            "{}",
            self.failure(program, &output)
        );
    }

    fn failure(&self, what: &str, output: &Output) -> String {
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        format!(
            "{what} failed ({}): {}{}\n----- cluster log -----\n{log}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        )
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // It may be frozen: stopped processes would not heed the stop.
        let _ = self.signal_all("CONT");
        // It may be stopped already, or never have started: then this fails, which is fine.
        let data = self.data();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that holds `initdb` and `pg_ctl`.
fn newest_postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's Debian packages (/usr/lib/postgresql) are needed")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no /usr/lib/postgresql/<version>/bin with initdb and pg_ctl")
        .1
}

/// Sends `signal` (a name such as `STOP`) to one process; false when it could not.
fn send_signal(signal: &str, pid: u32) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The processes whose parent is `parent`, read from `/proc/<pid>/stat` (the parent is the
/// second field after the command name, which is in parentheses and may hold anything).
fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (_, after_name) = stat.rsplit_once(')')?;
            let ppid: u32 = after_name.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|own| own.uid() == 0)
}
