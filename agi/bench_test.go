package agi

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// envBlock is the environment Asterisk 22 sends for a PJSIP call.
const envBlock = "agi_network: yes\nagi_network_script: idv?line=retail\nagi_request: agi://127.0.0.1:4573/idv?line=retail\n" +
	"agi_channel: PJSIP/sipp-00000001\nagi_language: en\nagi_type: PJSIP\nagi_uniqueid: 1764000000.1\nagi_version: 22.10.1\n" +
	"agi_callerid: 0312345678\nagi_calleridname: unknown\nagi_callingpres: 0\nagi_callingani2: 0\nagi_callington: 0\n" +
	"agi_callingtns: 0\nagi_dnid: 1000\nagi_rdnis: unknown\nagi_context: inbound\nagi_extension: 1000\nagi_priority: 2\n" +
	"agi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 139983944533696\n\n"

// BenchmarkReadEnv parses the agi_* block and the request of one call.
func BenchmarkReadEnv(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		env, err := ReadEnv(bufio.NewReader(strings.NewReader(envBlock)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := env.ParseRequest(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplyReader passes one call's replies (19 lines, a HANGUP among them)
// through the reader that drops notifications, folds usage blocks and checks that each
// reply has its command, as zaf/agi reads them; io.Copy of the same bytes is the
// baseline in the same run.
func BenchmarkReplyReader(b *testing.B) {
	answers := []string{"200 result=-1\n", "HANGUP\n511 Command Not Permitted on a dead channel or intercept routine\n"}
	for range 4 {
		answers = append([]string{"200 result=0\n", "200 result=1\n", "200 result=0 endpos=16000\n", "200 result=1234\n"}, answers...)
	}
	replies := strings.Join(answers, "")
	b.Run("idv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(replies)))
		var buf [512]byte
		for b.Loop() {
			w := &wire{arrived: make([]byte, 0, len(replies))}
			f := newReplies(w, 4096)
			for _, a := range answers {
				if err := f.expect(); err != nil {
					b.Fatal(err)
				}
				w.send(a)
				for n := 0; n == 0 || buf[n-1] != '\n'; {
					var err error
					if n, err = f.Read(buf[:]); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
	b.Run("baseline-copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(replies)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			io.Copy(&buf, bufio.NewReader(strings.NewReader(replies)))
		}
	})
}
