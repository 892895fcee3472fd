package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/config"
)

// nginxLocations reads the location blocks of deploy/proxy/nginx.conf: path → directives.
func nginxLocations(t *testing.T, text string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	re := regexp.MustCompile(`(?s)location\s+(?:=\s+)?(\S+)\s*\{(.*?)\n\s*\}`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		for _, l := range strings.Split(m[2], "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				out[m[1]] = append(out[m[1]], strings.TrimSuffix(l, ";"))
			}
		}
	}
	return out
}

// TestProxyExample: the reverse proxy of deploy/proxy/nginx.conf and the idv settings in
// its comments work together. The settings load as idv's configuration; nginx passes the
// signed-in user in the header idv reads, from an address idv trusts, to where idv
// listens; no location lets a browser's own user header through; the live stream is not
// buffered; and, where nginx is installed, nginx accepts the file.
func TestProxyExample(t *testing.T) {
	text := confText(t, "proxy/nginx.conf")

	var toml []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		if l == "#   [web]" {
			in = true
		}
		if in && l != "#" && !strings.HasPrefix(l, "#   ") {
			break // the prose after the indented settings
		}
		if in {
			toml = append(toml, strings.TrimPrefix(strings.TrimPrefix(l, "#"), "   "))
		}
	}
	if len(toml) == 0 {
		t.Fatal("nginx.conf's comments show no [web] settings for idv")
	}
	file := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(file, []byte("[sounds]\ndir = \"\"\n\n"+strings.Join(toml, "\n")+"\n"), 0o644)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("the idv settings in nginx.conf's comments: %v", err)
	}
	proxies, _ := cfg.Web.Proxies()
	if !slices.ContainsFunc(proxies, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr("127.0.0.1")) }) {
		t.Errorf("web.trusted_proxies %v does not hold nginx's address, 127.0.0.1: idv would ignore the user header", cfg.Web.TrustedProxies)
	}

	locs := nginxLocations(t, text)
	if len(locs) < 2 {
		t.Fatalf("nginx.conf: %d locations read", len(locs))
	}
	for path, ds := range locs {
		if !slices.Contains(ds, "proxy_pass http://"+cfg.Web.Listen) {
			t.Errorf("location %s does not proxy to web.listen %s: %v", path, cfg.Web.Listen, ds)
		}
		setsUser := slices.ContainsFunc(ds, func(d string) bool {
			return strings.HasPrefix(d, "proxy_set_header "+cfg.Web.ProxyHeader+" ")
		})
		if !setsUser {
			t.Errorf("location %s passes on a %s header the browser sent: anyone could claim to be a supervisor", path, cfg.Web.ProxyHeader)
		}
		if slices.Contains(ds, "auth_basic off") {
			if path != "/healthz" && path != "/readyz" {
				t.Errorf("location %s is open without sign-in", path)
			}
			continue
		}
		if !slices.Contains(ds, "proxy_set_header "+cfg.Web.ProxyHeader+" $remote_user") {
			t.Errorf("location %s does not tell idv who signed in (%s $remote_user)", path, cfg.Web.ProxyHeader)
		}
	}
	if live := locs["/api/live"]; !slices.Contains(live, "proxy_buffering off") || !slices.Contains(live, "proxy_http_version 1.1") {
		t.Errorf("/api/live must stream (proxy_buffering off, HTTP/1.1 upstream): %v", live)
	}
	if !strings.Contains(text, "auth_basic_user_file") || !strings.Contains(text, "ssl_certificate ") {
		t.Error("nginx.conf signs nobody in or has no TLS")
	}

	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Log("nginx is not installed (apt-get install nginx): nginx -t not run")
		return
	}
	// nginx -t on the file as shipped, with its certificate, password file and ports
	// moved into a temporary folder.
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	site := strings.NewReplacer(
		"/etc/ssl/idv/fullchain.pem", cert, "/etc/ssl/idv/privkey.pem", key,
		"/etc/nginx/idv.htpasswd", filepath.Join(dir, "htpasswd"),
		"listen 80;", "listen 127.0.0.1:18080;", "listen [::]:80;", "",
		"listen 443 ssl http2;", "listen 127.0.0.1:18443 ssl http2;", "listen [::]:443 ssl http2;", "",
	).Replace(text)
	os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("supervisor:{PLAIN}x\n"), 0o600)
	main := filepath.Join(dir, "nginx.conf")
	os.WriteFile(main, []byte("pid "+filepath.Join(dir, "nginx.pid")+";\nerror_log stderr;\nevents {}\nhttp {\naccess_log off;\n"+site+"\n}\n"), 0o644)
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", main).CombinedOutput(); err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

// selfSigned writes a certificate and key for localhost into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}
