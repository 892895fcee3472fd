package report

import (
	"fmt"
	"strings"
)

// Lang is the language a report is written in: its titles, columns, notes and the words
// for reasons and statuses. Codes (IDV_REASON values, section names, line and queue
// names) stay as they are.
type Lang string

// Languages.
const (
	English  Lang = "en"
	Japanese Lang = "ja"
)

// ParseLang reads a language name; "" is English.
func ParseLang(s string) (Lang, error) {
	switch l := Lang(strings.ToLower(s)); l {
	case "", English:
		return English, nil
	case Japanese:
		return Japanese, nil
	}
	return "", fmt.Errorf("lang %q: want en or ja", s)
}

// tr is s in the language; English text is the key of the catalogue.
func (l Lang) tr(s string) string {
	if l == Japanese {
		if j, ok := japanese[s]; ok {
			return j
		}
	}
	return s
}

// trf formats with the format translated.
func (l Lang) trf(format string, args ...any) string { return fmt.Sprintf(l.tr(format), args...) }

// japanese is the Japanese of every English text of the reports, keyed by the English.
var japanese = map[string]string{
	// Reports and their sections.
	"ID&V outcomes":                "本人確認の結果",
	"Identification methods":       "特定の方法",
	"Attempts and failure reasons": "試行回数と失敗理由",
	"Containment":                  "自己解決率",
	"Back-end health":              "CRM連携の状態",
	"Queue and agent activity":     "キューとエージェントの対応",
	"Interaction detail":           "通話明細",
	"verified / identified only / unidentified / opted out / errors, by line, by day and by hour": "本人確認済み・特定のみ・未特定・スキップ・エラー（回線別・日別・時間帯別）",
	"distribution of identify and verify attempts, failure reasons":                               "特定・本人確認の試行回数の分布、失敗理由",
	"calls finished in self-service vs sent to agents, per line":                                  "自動応答で完結した通話とエージェントへ転送した通話（回線別）",
	"CRM calls, latency percentiles, errors by kind, per endpoint":                                "CRM呼び出し、応答時間のパーセンタイル、エラーの種類（エンドポイント別）",
	"offered, answered, abandoned, wait and talk time, per queue and per agent":                   "着信・応答・放棄、待ち時間と通話時間（キュー別・エージェント別）",
	"one row per call with its step timeline":                                                     "1通話1行、各段階の経過つき",
	"By service line":             "回線別",
	"By day":                      "日別",
	"By hour of day":              "時間帯別",
	"Attempts used per call":      "通話ごとの試行回数",
	"Reasons by line":             "終了理由（回線別）",
	"Self-service vs agents":      "自動応答とエージェント",
	"Per endpoint":                "エンドポイント別",
	"Errors by kind":              "エラーの種類別",
	"Per queue":                   "キュー別",
	"Per agent":                   "エージェント別",
	"Interactions":                "通話",
	"Outcomes":                    "結果",
	"Calls by hour":               "時間帯別の通話数",
	"How callers were identified": "発信者の特定方法",
	"Attempts used":               "試行回数",
	"Failure reasons":             "失敗理由",
	"Where calls went":            "通話の行き先",
	"Latency (ms)":                "応答時間（ミリ秒）",
	"Queue activity":              "キューの対応",

	// Columns.
	"Line":                 "回線",
	"Day":                  "日付",
	"Hour":                 "時間帯",
	"Calls":                "通話数",
	"Verified":             "本人確認済み",
	"Identified only":      "特定のみ",
	"Unidentified":         "未特定",
	"Opted out":            "スキップ",
	"Errors":               "エラー",
	"Verified %":           "本人確認率",
	"Of which hung up":     "うち途中切断",
	"By ANI":               "発信者番号で特定",
	"By identifier type":   "特定方法別",
	"Verification factors": "本人確認の要素",
	"Factor":               "確認要素",
	"Asked":                "要求",
	"Passed":               "成功",
	"Pass rate":            "成功率",
	"Not passed":           "不成功",
	"ANI vs DTMF, ANI hit rate, share of withheld numbers, identifier types and verification factors":                                          "発信者番号と番号入力の比較、発信者番号ヒット率、非通知の割合、特定方法と本人確認の要素",
	"How callers were identified, as IDV_ID_TYPE says: ANI (their number) or the kind of identifier they typed. They add up to the calls.":     "IDV_ID_TYPE による特定方法：ANI（発信者番号）または入力された番号の種類。合計は通話数と一致します。",
	"Each verification factor (IDV_FACTORS): the calls that were asked it, passed it or not. A call asked several factors counts in each row.": "本人確認の要素（IDV_FACTORS）ごとに、要求した通話、成功・不成功の通話。複数の要素を求めた通話は各行に数えます。",
	"By DTMF":            "番号入力で特定",
	"Not identified":     "未特定",
	"ANI lookups":        "発信者番号の照会",
	"ANI hit rate":       "発信者番号ヒット率",
	"Of which withheld":  "うち非通知",
	"Withheld share":     "非通知の割合",
	"Of which invalid":   "うち無効な番号",
	"Attempts":           "試行回数",
	"Identify":           "特定",
	"Verify":             "本人確認",
	"Other":              "その他",
	"Self-service":       "自動応答で完結",
	"To agents":          "エージェントへ",
	"Hung up in the IVR": "IVR内で切断",
	"Endpoint":           "エンドポイント",
	"Answered":           "応答",
	"Error rate":         "エラー率",
	"p50 ms":             "p50（ミリ秒）",
	"p95 ms":             "p95（ミリ秒）",
	"p99 ms":             "p99（ミリ秒）",
	"Max ms":             "最大（ミリ秒）",
	"Queue":              "キュー",
	"Offered":            "着信",
	"Abandoned":          "放棄",
	"Timed out / left":   "タイムアウト・離脱",
	"Ending not known":   "結果不明",
	"Avg wait":           "平均待ち時間",
	"Avg talk":           "平均通話時間",
	"Agent":              "エージェント",
	"Talk time":          "通話時間",
	"Interaction":        "通話ID",
	"Started":            "開始日時",
	"Caller":             "発信者番号",
	"Status":             "状態",
	"Status code":        "状態コード",
	"Reason":             "理由",
	"Reason code":        "理由コード",
	"Method":             "方法",
	"Customer":           "顧客ID",
	"Name":               "氏名",
	"Route":              "転送先",
	"Queue status":       "キュー状態",
	"Wrap-up":            "後処理",
	"Duration":           "所要時間",
	"Timeline":           "経過",
	"Total":              "合計",
	" (s)":               "（秒）",

	// Reasons and statuses.
	"Verification not required":      "本人確認不要",
	"Customer not found":             "顧客が見つからない",
	"Customer not found (%d tries)":  "顧客が見つからない（%d回）",
	"No input":                       "入力なし",
	"Verification failed":            "本人確認失敗",
	"Verification failed (%d tries)": "本人確認失敗（%d回）",
	"Locked out":                     "ロック中",
	"CRM unavailable":                "CRM利用不可",
	"Caller hung up":                 "発信者が切断",
	"Identified and verified":        "特定済み・本人確認済み",
	"Identified, not verified":       "特定済み・本人確認未完了",

	// Notes.
	"Calls = Verified + Identified only + Unidentified + Opted out + Errors. Of which hung up: callers who hung up during the ID&V; they count in their outcome too.":                                                                                                                                 "通話数 = 本人確認済み + 特定のみ + 未特定 + スキップ + エラー。うち途中切断：本人確認の途中で切断した通話（それぞれの結果にも含まれます）。",
	"Calls = By ANI + By DTMF + Not identified. ANI lookups: numbers looked up in the CRM. ANI hit rate: calls identified by their number out of numbers looked up. Of which withheld / invalid: calls without a usable number, counted in the columns before too; withheld share: out of all calls.": "通話数 = 発信者番号で特定 + 番号入力で特定 + 未特定。発信者番号の照会：CRMで照会した番号の数。ヒット率：照会した番号のうち特定できた割合。うち非通知・無効な番号：使える番号のない通話（前の列にも含まれます）。非通知の割合：全通話に対する割合。",
	"Each column adds up to the calls.":                                           "各列の合計は通話数と一致します。",
	"Calls = the reasons' columns: the reason each call ended with (IDV_REASON).": "通話数 = 各理由の列の合計：通話が終了した理由（IDV_REASON）。",
	"Calls = Self-service + To agents + Hung up in the IVR. Self-service: routed to the dialplan (goto or continue) rather than to a queue. Containment: self-service out of all calls.": "通話数 = 自動応答で完結 + エージェントへ + IVR内で切断。自動応答で完結：キューではなくダイヤルプランへ転送した通話。自己解決率：全通話に対する自動応答で完結の割合。",
	"Calls = Answered + Errors. Latency in whole milliseconds, from idv's side: the request and the answer.":                                                                             "呼び出し数 = 応答 + エラー。応答時間はidv側で計測したミリ秒（要求から応答まで）。",
	"Errors = the kinds' columns.": "エラー = 各種類の列の合計。",
	"Offered = Answered + Abandoned + Timed out / left + Ending not known. Wait and talk as m:ss (h:mm:ss from an hour on).":        "着信 = 応答 + 放棄 + タイムアウト・離脱 + 結果不明。待ち時間と通話時間は分:秒（1時間以上は時:分:秒）。",
	"Wait and talk times come from ARI, or without it from the queue member gosub's /agent; none are recorded for this period (—).": "待ち時間・通話時間はARI、またはARIなしではキューメンバーのgosubの/agentから得ます。この期間には記録がありません（—）。",
	"First %d of %d interactions; narrow the filter for the rest.":                                                                  "%[2]d件中、最初の%[1]d件。残りは条件を絞って出力してください。",

	// Header, footer, filter.
	"generated":                       "作成",
	"Scheduled by idv (schedule %q).": "idvの定期実行（スケジュール %q）による送付です。",
	"page %d of {nb}":                 "{nb}ページ中 %dページ",
	"line":                            "回線",
	"queue":                           "キュー",
	"agent":                           "エージェント",
	"status":                          "状態",
	"language":                        "言語",
	"wrap-up":                         "後処理",
}
