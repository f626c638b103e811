// GraphiQL on /graphql, against this origin only. Operations go in a POST body: the API
// refuses them in a GET URL, where proxies and the history would keep their variables.
"use strict";

(function () {
  var EXAMPLE = [
    "# 守护 Shouhu GraphQL API.",
    "# Every operation needs a token in the Headers tab below:",
    '#   {"Authorization": "Bearer <token>"}',
    "# A development token: .venv/bin/shouhu token --role coordinator --region <county code>",
    "# (the console's login page keeps the token you signed in with; it is filled in here).",
    "",
    "query Me {",
    "  me {",
    "    sub",
    "    role",
    "  }",
    "}",
    "",
  ].join("\n");

  // The console keeps its session token under this key (console/src: the login).
  var TOKEN_KEYS = ["shouhu.token"];

  function storedToken() {
    for (var i = 0; i < TOKEN_KEYS.length; i++) {
      try {
        var value = window.sessionStorage.getItem(TOKEN_KEYS[i]) || window.localStorage.getItem(TOKEN_KEYS[i]);
        if (value) return value;
      } catch (e) {
        return null;
      }
    }
    return null;
  }

  var url = window.location.origin + "/graphql";
  var socket = new URL(url);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";
  var token = storedToken();
  var headers = token ? JSON.stringify({ Authorization: "Bearer " + token }, null, 2) : undefined;

  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socket.toString() });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: EXAMPLE,
      headers: headers,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    })
  );
})();
