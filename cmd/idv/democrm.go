package main

import (
	"fmt"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm/demo"
)

func democrm(args []string) error {
	fs := newFlagSet("democrm", "[-listen HOST:PORT]", `Serves the reference CRM API (docs/crm-api.md) with its demo customers
(crm/demo/demo.go), for trying idv without a company back end.`)
	listen := fs.String("listen", config.Defaults().DemoCRM.Listen, "address to serve the reference CRM API on")
	fs.Parse(args)
	fmt.Printf("demo crm: http://%s/customers?phone=%%2B81312345678 (%d customers)\n", *listen, len(demo.Seed))
	srv := demo.Server()
	srv.Addr = *listen
	return srv.ListenAndServe()
}
