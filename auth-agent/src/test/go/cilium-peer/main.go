// Command cilium-peer is a Go crypto/tls client and server configured as Cilium's mutual-auth handler
// (pkg/auth/mutual_authhandler.go, per ../shared/reference/cilium-mutual-auth.md §2.2): TLS 1.3 only, SNI
// "<identity>.<trust domain>", a server that picks its certificate from the SNI (GetCertificate) and
// requires a client certificate chaining to the bundle, and a client that skips Go's own verification in
// favour of a VerifyPeerCertificate checking the chain and the leaf's single URI SAN. No application data.
// meshauth's tests and bench/run-handshake run it as the peer meshauth must interoperate with and beat.
//
//	cilium-peer server -listen ADDR -td TD -ca BUNDLE.pem -svid ID=CERT.pem,KEY.pem [-svid ...]
//	cilium-peer client -connect ADDR -td TD -ca BUNDLE.pem -svid ID=CERT.pem,KEY.pem -remote ID
//	                   [-n N] [-warmup N] [-c CONCURRENCY] [-server-pid PID]
//
// The server prints "listening ADDR" once bound, then one line per handshake on stderr with -v. The
// client prints one line of key=value figures; it exits 1 if any measured handshake failed, naming why.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// curves is tls.Config.CurvePreferences for both sides: nil is Go's default, what Cilium runs.
var curves []tls.CurveID

type svidFlag map[uint64]*tls.Certificate

func (s svidFlag) String() string { return fmt.Sprint(len(s)) }

func (s svidFlag) Set(v string) error {
	id, files, ok := strings.Cut(v, "=")
	certFile, keyFile, ok2 := strings.Cut(files, ",")
	if !ok || !ok2 {
		return fmt.Errorf("want ID=CERT.pem,KEY.pem, got %q", v)
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return fmt.Errorf("identity %q: %w", id, err)
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	s[n] = &c
	return nil
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "server" && os.Args[1] != "client") {
		fmt.Fprintln(os.Stderr, "usage: cilium-peer server|client [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	svids := svidFlag{}
	fs.Var(svids, "svid", "ID=CERT.pem,KEY.pem: an identity's SVID (repeatable)")
	td := fs.String("td", "spiffe.cilium", "trust domain")
	caFile := fs.String("ca", "", "trust bundle (PEM)")
	listen := fs.String("listen", "127.0.0.1:0", "server: address to listen on")
	verbose := fs.Bool("v", false, "server: a line per handshake on stderr")
	connect := fs.String("connect", "", "client: server address")
	remote := fs.Uint64("remote", 0, "client: the remote identity (SNI and expected URI SAN)")
	n := fs.Int("n", 1, "client: measured handshakes")
	warmup := fs.Int("warmup", 0, "client: handshakes before measuring")
	conc := fs.Int("c", 1, "client: handshakes in flight at once")
	serverPid := fs.Int("server-pid", 0, "client: also report this process's CPU over the measured handshakes")
	groups := fs.String("groups", "default", "key-exchange groups: default (Go's: X25519MLKEM768 first, as Cilium runs)"+
		" or x25519 (X25519, P-256: meshauth's choice, for comparison)")
	_ = fs.Parse(os.Args[2:])
	switch *groups {
	case "default":
	case "x25519":
		curves = []tls.CurveID{tls.X25519, tls.CurveP256}
	default:
		fail(fmt.Errorf("-groups: want default or x25519, got %q", *groups))
	}
	bundle, err := loadBundle(*caFile)
	if err != nil {
		fail(err)
	}
	if os.Args[1] == "server" {
		serve(*listen, *td, bundle, svids, *verbose)
		return
	}
	if len(svids) != 1 {
		fail(errors.New("client: exactly one -svid"))
	}
	var local *tls.Certificate
	for _, c := range svids {
		local = c
	}
	if local.Leaf == nil {
		if local.Leaf, err = x509.ParseCertificate(local.Certificate[0]); err != nil {
			fail(err)
		}
	}
	c := client{addr: *connect, td: *td, bundle: bundle, cert: local, remote: *remote}
	if *warmup > 0 {
		c.run(*warmup, *conc)
	}
	os.Exit(c.report(*n, *conc, *serverPid))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cilium-peer:", err)
	os.Exit(2)
}

func loadBundle(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		pool.AddCert(c)
	}
	return pool, nil
}

// serve is Cilium's listenForConnections and handleConnection: one goroutine per connection, close_notify
// (tlsConn.Close) after the handshake, an alert when it fails.
func serve(addr, td string, bundle *x509.CertPool, svids svidFlag, verbose bool) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err)
	}
	fmt.Println("listening", l.Addr())
	cfg := &tls.Config{
		ClientAuth:       tls.RequireAndVerifyClientCert,
		MinVersion:       tls.VersionTLS13,
		ClientCAs:        bundle,
		CurvePreferences: curves,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			id, err := sniToIdentity(hello.ServerName, td)
			if err != nil {
				return nil, err
			}
			if c, ok := svids[id]; ok {
				return c, nil
			}
			return nil, fmt.Errorf("no local endpoint present for identity %d", id)
		},
	}
	for {
		conn, err := l.Accept()
		if err != nil {
			fail(err)
		}
		go func() {
			defer conn.Close()
			tlsConn := tls.Server(conn, cfg)
			defer tlsConn.Close()
			err := tlsConn.Handshake()
			if verbose {
				st := tlsConn.ConnectionState()
				if err != nil {
					fmt.Fprintf(os.Stderr, "handshake failed sni=%q error=%q\n", st.ServerName, err)
				} else {
					fmt.Fprintf(os.Stderr, "handshake ok sni=%q client=%s group=%s cipher=%s\n", st.ServerName,
						uriOf(st.PeerCertificates[0]), st.CurveID, tls.CipherSuiteName(st.CipherSuite))
				}
			}
		}()
	}
}

func sniToIdentity(sni, td string) (uint64, error) {
	prefix, ok := strings.CutSuffix(sni, "."+td)
	if !ok {
		return 0, fmt.Errorf("SNI %q is not in trust domain %s", sni, td)
	}
	return strconv.ParseUint(prefix, 10, 32)
}

func uriOf(c *x509.Certificate) string {
	if len(c.URIs) != 1 {
		return "?"
	}
	return c.URIs[0].String()
}

type client struct {
	addr   string
	td     string
	bundle *x509.CertPool
	cert   *tls.Certificate
	remote uint64
}

type outcome struct {
	latency time.Duration
	expiry  time.Time
	peer    string
	group   tls.CurveID
	cipher  uint16
	err     error
}

// authenticate is Cilium's mutualAuthHandler.authenticate: dial, handshake, close; the expiry is the
// earlier of the two leaves' NotAfter.
func (c *client) authenticate() outcome {
	start := time.Now()
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return outcome{err: err}
	}
	defer conn.Close()
	expiry := c.cert.Leaf.NotAfter
	var peer string
	tlsConn := tls.Client(conn, &tls.Config{
		ServerName: fmt.Sprintf("%d.%s", c.remote, c.td),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return c.cert, nil
		},
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // verified below, as Cilium does
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			leaf, err := verifyPeer(raw, c.bundle, c.remote, c.td)
			if err != nil {
				return err
			}
			peer = uriOf(leaf)
			if leaf.NotAfter.Before(expiry) {
				expiry = leaf.NotAfter
			}
			return nil
		},
		RootCAs:          c.bundle,
		ClientCAs:        c.bundle,
		CurvePreferences: curves,
	})
	defer tlsConn.Close()
	if err := tlsConn.Handshake(); err != nil {
		return outcome{err: err}
	}
	st := tlsConn.ConnectionState()
	return outcome{latency: time.Since(start), expiry: expiry, peer: peer, group: st.CurveID, cipher: st.CipherSuite}
}

// verifyPeer is Cilium's verifyPeerCertificate with the certificate-substitution fix: CA certificates
// are intermediates, exactly one non-CA leaf, which must chain to the bundle and carry exactly one URI
// SAN, spiffe://<td>/identity/<id>.
func verifyPeer(raw [][]byte, bundle *x509.CertPool, id uint64, td string) (*x509.Certificate, error) {
	if len(raw) == 0 {
		return nil, errors.New("no certificate chains found")
	}
	opts := x509.VerifyOptions{Roots: bundle, Intermediates: x509.NewCertPool()}
	var leaf *x509.Certificate
	for _, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return nil, fmt.Errorf("failed to parse certificate: %w", err)
		}
		if c.IsCA {
			opts.Intermediates.AddCert(c)
		} else if leaf != nil {
			return nil, errors.New("found additional non-CA certificate in chain")
		} else {
			leaf = c
		}
	}
	if leaf == nil {
		return nil, errors.New("no leaf certificate found")
	}
	if _, err := leaf.Verify(opts); err != nil {
		return nil, fmt.Errorf("failed to verify certificate: %w", err)
	}
	want := url.URL{Scheme: "spiffe", Host: td, Path: fmt.Sprintf("/identity/%d", id)}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != want.String() {
		return nil, fmt.Errorf("failed to validate SAN: want %s", want.String())
	}
	return leaf, nil
}

func (c *client) run(n, conc int) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = c.authenticate()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func (c *client) report(n, conc, serverPid int) int {
	cpu0, srv0 := selfCPU(), procCPU(serverPid)
	t0 := time.Now()
	out := c.run(n, conc)
	secs := time.Since(t0).Seconds()
	cpu1, srv1 := selfCPU(), procCPU(serverPid)
	var lat []time.Duration
	var firstErr error
	failed := 0
	for _, o := range out {
		if o.err != nil {
			failed++
			if firstErr == nil {
				firstErr = o.err
			}
			continue
		}
		lat = append(lat, o.latency)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("stack=go handshakes=%d failed=%d seconds=%.3f rate=%.1f client_cpu_us=%.1f", n, failed, secs,
		float64(n)/secs, float64(cpu1-cpu0)/1e3/float64(n))
	if serverPid > 0 {
		fmt.Printf(" server_cpu_us=%.1f", float64(srv1-srv0)/1e3/float64(n))
	}
	if len(lat) > 0 {
		last := out[len(out)-1]
		for _, o := range out {
			if o.err == nil {
				last = o
			}
		}
		fmt.Printf(" p50_us=%d p99_us=%d group=%s cipher=%s peer=%s expiry=%s", lat[len(lat)/2].Microseconds(),
			lat[len(lat)*99/100].Microseconds(), last.group, tls.CipherSuiteName(last.cipher), last.peer,
			last.expiry.UTC().Format(time.RFC3339))
	}
	fmt.Println()
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "cilium-peer: %d of %d handshakes failed, first: %v\n", failed, n, firstErr)
		return 1
	}
	return 0
}

// selfCPU is this process's user and system CPU time in nanoseconds.
func selfCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// procCPU is another process's user and system CPU time in nanoseconds, from /proc (clock ticks of 10 ms).
func procCPU(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fail(err)
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // field 3 onwards
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return (ut + st) * int64(time.Second/100)
}
