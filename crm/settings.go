package crm

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Settings describe a back end: what New needs to build its client.
type Settings struct {
	Auth                 Auth
	TLS                  TLS
	ByPhone, ByID, Check Endpoint
	// Identifiers, Factors and SendOTP are Client's.
	Identifiers, Factors map[string]Endpoint
	SendOTP              Endpoint
	// RequestTimeout bounds one request.
	RequestTimeout time.Duration
	// BreakerFailures consecutive failures open the circuit breaker for BreakerOpen; 0
	// leaves the breaker off.
	BreakerFailures int
	BreakerOpen     time.Duration
}

// MaxConnsPerHost bounds the client's connections to one host of the back end.
const MaxConnsPerHost = 256

// New builds the client of a back end, with a connection pool sized for many calls at
// once to one host.
func New(s Settings) (*Client, error) {
	tc, err := s.TLS.Config()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = MaxConnsPerHost
	// A cap, so that a slow CRM cannot take a descriptor per call in progress: requests
	// past it wait for a connection, within the call's CRM budget.
	tr.MaxConnsPerHost = MaxConnsPerHost
	if tc != nil {
		tr.TLSClientConfig = tc
	}
	return (&Client{
		HTTP:           &http.Client{Transport: tr, CheckRedirect: refuseRedirect},
		Auth:           s.Auth,
		ByPhone:        s.ByPhone,
		ByID:           s.ByID,
		Check:          s.Check,
		Identifiers:    s.Identifiers,
		Factors:        s.Factors,
		SendOTP:        s.SendOTP,
		RequestTimeout: s.RequestTimeout,
	}).WithBreaker(s.BreakerFailures, s.BreakerOpen), nil
}

// TLS is how idv trusts the back end and proves itself to it.
type TLS struct {
	// CAFile is a PEM bundle of the authorities that sign the CRM's certificate (added to
	// the system's).
	CAFile string
	// CertFile and KeyFile are idv's client certificate and key (PEM), for mutual TLS.
	CertFile, KeyFile string
	ServerName        string
}

// Config reads the files and builds the client TLS configuration; nil when nothing is
// set.
func (t TLS) Config() (*tls.Config, error) {
	if t == (TLS{}) {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
