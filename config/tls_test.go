package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"github.com/idv-project/idv/crm"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCRMMutualTLS: with crm.tls set, idv trusts a CRM signed by a private CA and proves
// itself with its client certificate; without the client certificate the CRM refuses it.
func TestCRMMutualTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "idv"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kder, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600)
		return p
	}
	clientCert, clientKey := write("idv.crt", "CERTIFICATE", der), write("idv.key", "EC PRIVATE KEY", kder)
	clientPool := x509.NewCertPool()
	clientPool.AddCert(must(x509.ParseCertificate(der)))

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"customers":[{"id":"1","name":"TLS"}]}`))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool}
	srv.StartTLS()
	defer srv.Close()
	ca := write("ca.crt", "CERTIFICATE", srv.Certificate().Raw)

	for _, tc := range []struct {
		name, tls string
		ok        bool
	}{
		{"CA and client certificate", "ca_file = %q\ncert_file = %q\nkey_file = %q\nserver_name = \"example.com\"", true},
		{"CA only: the CRM wants a client certificate", "ca_file = %q\nserver_name = \"example.com\"", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "[crm]\nbase_url = \"" + srv.URL + "\"\n[crm.tls]\n"
			if strings.Count(tc.tls, "%q") == 3 {
				text += fmt.Sprintf(tc.tls, ca, clientCert, clientKey)
			} else {
				text += fmt.Sprintf(tc.tls, ca)
			}
			cfg, err := Parse("t.toml", text)
			if err != nil {
				t.Fatal(err)
			}
			client, err := crm.New(cfg.CRM.Settings())
			if err != nil {
				t.Fatal(err)
			}
			got, err := client.FindByPhone(context.Background(), "+81312345678")
			if tc.ok && (err != nil || len(got) != 1) {
				t.Errorf("= %v, %v", got, err)
			}
			if !tc.ok && err == nil {
				t.Error("the CRM answered without idv's client certificate")
			}
		})
	}
	if _, err := Parse("t.toml", "[crm.tls]\nca_file = \""+filepath.Join(dir, "none.pem")+"\""); err == nil || !strings.Contains(err.Error(), "crm.tls") {
		t.Errorf("missing CA file: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
