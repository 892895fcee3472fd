// Package flow is the identification-and-verification state machine of idv.
//
// It is the domain of the project: it declares what a call, a customer directory and a
// recorder must do (Call, Directory, Recorder) and runs the business flow of the use case
// over them — welcome, identification by ANI, identification by a typed identifier,
// verification by a typed secret, channel variables, routing. It imports no I/O package:
// the agi, crm and store packages adapt Asterisk, the company's CRM and the database to
// these interfaces, and the app package wires them together.
//
// It also owns the vocabulary the rest of idv reads a call with: every step is an Event
// of an EventKind, with a Result and the Phase of the call it happened in, and Outcome
// (OutcomeOf) is the one bucketing of a status and reason. The live views, the metrics
// and the reports switch on these constants rather than on strings of their own.
package flow
