// Command idv is customer identification and verification for Asterisk contact centres.
//
//	idv serve   [-config config.toml]      run the FastAGI service (and the demo CRM if configured)
//	idv call    [-addr host:port] [flags]  act as Asterisk and place one call, from a terminal
//	idv democrm [-listen host:port]        run the reference CRM with its demo customers
//	idv version                            print the version
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(args)
	case "call":
		err = call(args)
	case "democrm":
		err = democrm(args)
	case "version", "-version", "--version":
		fmt.Println("idv", version())
	case "help", "-h", "-help", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "idv: unknown command %q\n\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idv:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: idv <command> [flags]

commands:
  serve     run the FastAGI ID&V service (see config.toml)
  call      act as Asterisk and place one call against a running idv serve
  democrm   run the reference CRM with its demo customers
  version   print the version

Run "idv <command> -h" for a command's flags.
`)
}
