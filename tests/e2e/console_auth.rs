//! The console's sign-in: passwords, the session cookie on `/graphql` and
//! `/graphql/ws`, cross-site refusals, rate limits, sign-out, expiry,
//! invitations, a new site's first admin, the first-run set-up, and the
//! console's own pages.

use livedesk::config::{ConsoleArgs, WsConfig};
use livedesk_domain::Role;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::fixtures::{Fixture, WsClient, code, data, event_count};
use crate::helpers::{TestApp, spawn_app, spawn_app_with_console, widget_args};

const PASSWORD: &str = "correct horse battery";

/// A browser tab of the console: the session cookie it holds, and the
/// headers the console's code sends.
struct Tab<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Tab<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-livedesk-console", HeaderValue::from_static("1"));
        headers.insert("origin", HeaderValue::from_str(&self.app.address).expect("origin"));
        if let Some(cookie) = &self.cookie {
            headers.insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
        }
        headers
    }

    /// Sends a console API request; keeps a cookie the answer sets.
    async fn call(&mut self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .app
            .http
            .request(method, format!("{}/console/api{path}", self.app.address))
            .headers(self.headers());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("console api");
        let status = response.status();
        if let Some(set) = response.headers().get("set-cookie") {
            let pair = set.to_str().expect("cookie").split(';').next().unwrap_or_default();
            self.cookie = (!pair.ends_with('=')).then(|| pair.to_owned());
        }
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({ "email": email, "password": password });
        self.call(reqwest::Method::POST, "/session", Some(body)).await
    }

    /// A GraphQL request authenticated by the cookie.
    async fn graphql(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let response = self
            .app
            .http
            .post(format!("{}/graphql", self.app.address))
            .headers(self.headers())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("graphql");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Opens `/graphql/ws` with the cookie and an `Origin`.
    async fn socket(&self, origin: &str) -> Result<WsClient, u16> {
        let url = format!("{}/graphql/ws", self.app.address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("request");
        let headers = request.headers_mut();
        headers.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        headers.insert("origin", HeaderValue::from_str(origin).expect("origin"));
        if let Some(cookie) = &self.cookie {
            headers.insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(WsClient::from_socket(socket)),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(other) => panic!("ws connect: {other}"),
        }
    }
}

fn email(name: &str) -> String {
    format!("{}@shop.example", name.to_lowercase())
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

const ME: &str = "{ me { role agent { id displayName } } }";

#[sqlx::test(migrations = false)]
async fn an_agent_signs_in_and_the_cookie_authenticates_graphql_and_the_socket(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    let mut tab = Tab::new(&app);

    let before = event_count(&app).await;
    let (status, session) = tab.sign_in(&email("Ana"), PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["agent"]["id"], ana.id.to_string());
    assert_eq!(session["site"]["id"], site.site.to_string());
    assert_eq!(session["role"], "AGENT");
    assert_eq!(event_count(&app).await, before, "signing in appends nothing");

    let (status, me) = tab.graphql(ME, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["data"]["me"]["agent"]["id"], ana.id.to_string(), "{me}");
    let (status, current) = tab.call(reqwest::Method::GET, "/session", None).await;
    assert_eq!(
        (status, &current["agent"]["displayName"]),
        (StatusCode::OK, &json!("Ana"))
    );

    // The socket: the cookie authenticates the upgrade, `connection_init`
    // needs no token.
    let mut socket = tab.socket(&app.address).await.expect("same-origin upgrade");
    socket.send(json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(socket.message().await["type"], "connection_ack");
    socket
        .subscribe(
            "1",
            "subscription($s: ID!) { liveSessionsChanged(siteId: $s) { onlineCount } }",
            json!({ "s": site.site.to_string() }),
        )
        .await;
    let first = socket.message().await;
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(first["payload"]["data"]["liveSessionsChanged"]["onlineCount"], 0);
    socket.close().await;

    // Signing in again rotates the session: the old cookie ends.
    let old = tab.cookie.clone();
    let (status, _) = tab.sign_in(&email("Ana"), PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(tab.cookie, old, "a new session secret");
    let stale = Tab { app: &app, cookie: old };
    let (status, body) = stale.graphql(ME, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        "{body}"
    );
    let (status, _) = tab.graphql(ME, json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn the_cookie_is_http_only_strict_and_secure_behind_tls(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    for (proto, secure) in [(None, false), (Some("https"), true)] {
        let mut request = app
            .http
            .post(format!("{}/console/api/session", app.address))
            .header("x-livedesk-console", "1")
            .json(&json!({ "email": email("Ana"), "password": PASSWORD }));
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        let response = request.send().await.expect("sign in");
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response.headers()["set-cookie"].to_str().expect("cookie").to_owned();
        assert!(cookie.starts_with("livedesk_session="), "{cookie}");
        assert!(
            cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"),
            "{cookie}"
        );
        assert_eq!(cookie.contains("; Secure"), secure, "{cookie}");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
}

#[sqlx::test(migrations = false)]
async fn wrong_passwords_and_unknown_emails_get_one_answer_and_are_rate_limited(pool: PgPool) {
    let console = ConsoleArgs {
        failures_per_account: 3,
        failures_per_address: 6,
        ..ConsoleArgs::default()
    };
    let app = spawn_app_with_console(pool, WsConfig::default(), widget_args(), console).await;
    let site = Fixture::new(&app).await;
    site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    site.agent_with_password("Bob", Role::Agent, PASSWORD).await;
    let mut tab = Tab::new(&app);
    let before = event_count(&app).await;

    let wrong = tab.sign_in(&email("Ana"), "not the password").await;
    let unknown = tab.sign_in("nobody@shop.example", "not the password").await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown, "no hint whether the email exists");
    assert_eq!(error_code(&wrong.1), "UNAUTHENTICATED");
    assert!(tab.cookie.is_none());

    // Per account: the third failure locks Ana out, the right password
    // included; Bob still signs in from the same address.
    assert_eq!(
        tab.sign_in(&email("Ana"), "still wrong").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        tab.sign_in(&email("Ana"), "wrong again").await.0,
        StatusCode::UNAUTHORIZED
    );
    let response = app
        .http
        .post(format!("{}/console/api/session", app.address))
        .header("x-livedesk-console", "1")
        .json(&json!({ "email": email("Ana"), "password": PASSWORD }))
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = response.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(!body.to_string().to_lowercase().contains("ana"), "no hint: {body}");
    let (status, _) = tab.sign_in(&email("Bob"), PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a success clears nothing of Ana's lock but is not limited"
    );

    // Per address: failures over many emails (known or not) lock the
    // address out; the limit answers alike for known and unknown emails.
    for n in 0..3 {
        tab.sign_in(&format!("guess{n}@shop.example"), "guess").await;
    }
    let (status, body) = tab.sign_in(&email("Bob"), PASSWORD).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
    );
    let (status, body) = tab.sign_in("nobody@shop.example", "x").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
    );
    assert_eq!(event_count(&app).await, before, "failed sign-ins append nothing");
}

#[sqlx::test(migrations = false)]
async fn cross_site_requests_with_the_cookie_are_refused_and_append_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    site.agent_with_password("Ada", Role::Admin, PASSWORD).await;
    let mut tab = Tab::new(&app);
    assert_eq!(tab.sign_in(&email("Ada"), PASSWORD).await.0, StatusCode::OK);
    let cookie = tab.cookie.clone().expect("cookie");
    let mutation = "mutation($s: ID!) { createTeam(siteId: $s, name: \"Evil\") { id } }";
    let variables = json!({ "s": site.site.to_string() });
    let graphql = format!("{}/graphql", app.address);
    let before = event_count(&app).await;

    // The form post another site's page can make: no custom header, a
    // simple content type, a foreign Origin. GraphQL takes JSON only (a
    // content type a form cannot send), and the cookie needs the header.
    let form = app
        .http
        .post(&graphql)
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("query", mutation), ("variables", &variables.to_string())])
        .send()
        .await
        .expect("form post");
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for content_type in ["text/plain", "application/json"] {
        let forged = app
            .http
            .post(&graphql)
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .header("content-type", content_type)
            .body(json!({ "query": mutation, "variables": variables }).to_string())
            .send()
            .await
            .expect("post");
        assert!(
            [StatusCode::FORBIDDEN, StatusCode::UNSUPPORTED_MEDIA_TYPE].contains(&forged.status()),
            "{content_type}: {}",
            forged.status()
        );
    }
    // A link or an image: GET never runs mutations, and a query by the
    // cookie needs the header as well.
    let get = |query: &'static str| {
        app.http
            .get(&graphql)
            .header("cookie", &cookie)
            .query(&[("query", query), ("variables", &variables.to_string())])
            .send()
    };
    assert_eq!(
        get(mutation).await.expect("get").status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let link = get(ME).await.expect("get");
    assert_eq!(link.status(), StatusCode::FORBIDDEN);
    let body: Value = link.json().await.expect("json");
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    // Without the console's header, from this origin's pages or none.
    let bare = app
        .http
        .post(&graphql)
        .header("cookie", &cookie)
        .json(&json!({ "query": mutation, "variables": variables }))
        .send()
        .await
        .expect("post");
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);

    // With the header but from another origin (a preflight this server
    // never grants would be needed; a non-browser client could send it).
    for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let foreign = app
            .http
            .post(&graphql)
            .header("cookie", &cookie)
            .header("x-livedesk-console", "1")
            .header(name, value)
            .json(&json!({ "query": mutation, "variables": variables }))
            .send()
            .await
            .expect("post");
        assert_eq!(foreign.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }

    // The socket from another origin, and one with no Origin at all.
    assert_eq!(tab.socket("https://evil.example").await.err(), Some(403));
    assert_eq!(event_count(&app).await, before, "nothing refused was appended");

    // The same mutation from the console itself goes through.
    let (status, body) = tab.graphql(mutation, variables).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["data"]["createTeam"]["id"].is_string(), "{body}");
    assert!(event_count(&app).await > before);
}

#[sqlx::test(migrations = false)]
async fn signing_out_ends_the_session_and_everywhere_ends_them_all_with_their_sockets(pool: PgPool) {
    // Pings every 15 s: a socket closed within the client's 10 s wait was
    // closed by the sign-out itself.
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    let mut laptop = Tab::new(&app);
    let mut phone = Tab::new(&app);
    let mut desk = Tab::new(&app);
    for tab in [&mut laptop, &mut phone, &mut desk] {
        assert_eq!(tab.sign_in(&email("Ana"), PASSWORD).await.0, StatusCode::OK);
    }

    let (status, _) = laptop.call(reqwest::Method::DELETE, "/session", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(laptop.cookie.is_none(), "the cookie is cleared");
    let (status, body) = laptop.call(reqwest::Method::GET, "/session", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
    );
    assert_eq!(
        phone.graphql(ME, json!({})).await.1["data"]["me"]["agent"]["displayName"],
        "Ana"
    );

    // The phone's socket lives until Ana signs out everywhere from the desk.
    let mut socket = phone.socket(&app.address).await.expect("upgrade");
    socket.send(json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(socket.message().await["type"], "connection_ack");
    let revoked_phone = phone.cookie.clone();
    let (status, _) = desk.call(reqwest::Method::POST, "/sessions/revoke-all", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        socket.close_code().await,
        Some(4403),
        "the socket of an ended session closes"
    );
    for cookie in [revoked_phone, desk.cookie.clone()] {
        let tab = Tab { app: &app, cookie };
        let (_, body) = tab.graphql(ME, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    let mut again = phone.socket(&app.address).await.expect("upgrade");
    again.send(json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(
        again.close_code().await,
        Some(4403),
        "an ended session cannot start a socket"
    );
}

#[sqlx::test(migrations = false)]
async fn idle_and_expired_sessions_end(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let site = Fixture::new(&app).await;
    site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    let mut idle = Tab::new(&app);
    let mut old = Tab::new(&app);
    let mut fresh = Tab::new(&app);
    for tab in [&mut idle, &mut old, &mut fresh] {
        assert_eq!(tab.sign_in(&email("Ana"), PASSWORD).await.0, StatusCode::OK);
    }
    let secret = |tab: &Tab| {
        let cookie = tab.cookie.clone().expect("cookie");
        let secret = cookie.split_once('=').expect("pair").1.to_owned();
        livedesk_api::auth::hash(&secret)
    };
    // Unused for longer than the idle limit (8 hours by default).
    sqlx::query("UPDATE console_sessions SET last_seen_at = now() - interval '9 hours' WHERE secret_hash = $1")
        .bind(secret(&idle))
        .execute(&pool)
        .await
        .expect("age");
    // Used a minute ago, but past its absolute end.
    sqlx::query(
        "UPDATE console_sessions SET created_at = now() - interval '8 days', expires_at = now() - interval '1 day' \
         WHERE secret_hash = $1",
    )
    .bind(secret(&old))
    .execute(&pool)
    .await
    .expect("expire");
    for tab in [&idle, &old] {
        let (_, body) = tab.graphql(ME, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    assert_eq!(
        fresh.graphql(ME, json!({})).await.1["data"]["me"]["agent"]["displayName"],
        "Ana"
    );
}

#[sqlx::test(migrations = false)]
async fn admins_invite_agents_who_set_a_password_once_and_sign_in(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let site = Fixture::new(&app).await;
    let ada = site.agent_with_password("Ada", Role::Admin, PASSWORD).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let invite = "mutation($s: ID!, $e: String!, $n: String!, $r: Role!) { \
                  inviteAgent(siteId: $s, email: $e, name: $n, role: $r) { agentId url setsPassword expiresAt } }";
    let vars = |email: &str, role: &str| json!({ "s": site.site.to_string(), "e": email, "n": "Zoe", "r": role });

    // Agents may not invite; nothing is appended.
    let before = event_count(&app).await;
    let (_, refused) = crate::fixtures::post(&app, Some(&ana.token), invite, vars("zoe@shop.example", "AGENT")).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(event_count(&app).await, before);

    let invited = data(&app, &ada.token, invite, vars("zoe@shop.example", "SUPERVISOR")).await;
    let invitation = &invited["inviteAgent"];
    assert_eq!(invitation["setsPassword"], true);
    let url = invitation["url"].as_str().expect("url");
    let token = url
        .rsplit_once("/console/invite?token=")
        .expect("an invitation link")
        .1
        .to_owned();

    let mut tab = Tab::new(&app);
    let (status, shown) = tab
        .call(reqwest::Method::GET, &format!("/invitations/{token}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["email"], "zoe@shop.example");
    assert_eq!(shown["siteName"], "Shop");
    let accept = |password: &str| json!({ "token": token, "password": password });
    let (status, body) = tab
        .call(reqwest::Method::POST, "/invitations/accept", Some(accept("short")))
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"));
    let (status, session) = tab
        .call(reqwest::Method::POST, "/invitations/accept", Some(accept(PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["role"], "SUPERVISOR");
    assert_eq!(tab.graphql(ME, json!({})).await.1["data"]["me"]["role"], "SUPERVISOR");

    // One time only.
    let (status, _) = Tab::new(&app)
        .call(
            reqwest::Method::POST,
            "/invitations/accept",
            Some(accept("another password")),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = Tab::new(&app).sign_in("zoe@shop.example", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the password set by the link signs in");

    // The log records that a password was set, never the password or hash.
    let (hashes,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM events WHERE payload::text LIKE '%argon2%' OR payload::text LIKE $1")
            .bind(format!("%{PASSWORD}%"))
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(hashes, 0);
    let (set,): (i64,) = sqlx::query_as("SELECT count(*) FROM events WHERE event_type = 'AgentPasswordSet'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(set, 2, "Ada's and Zoe's");

    // Inviting someone with a password never resets it: they sign in.
    let again = data(&app, &ada.token, invite, vars("zoe@shop.example", "AGENT")).await;
    assert_eq!(again["inviteAgent"]["setsPassword"], false);
    assert!(
        again["inviteAgent"]["url"]
            .as_str()
            .expect("url")
            .ends_with("/console/signin")
    );
    assert_eq!(
        Tab::new(&app).sign_in("zoe@shop.example", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[sqlx::test(migrations = false)]
async fn the_cli_invites_and_creates_a_site_with_a_first_admin_link(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let config = livedesk::people::config(app.address.clone());
    let created = livedesk::people::create_site(&pool, &config, "Bakery", None)
        .await
        .expect("sites create");
    let token = created
        .admin_link
        .strip_prefix(&format!("{}/console/invite?token=", app.address))
        .expect("a link to the console")
        .to_owned();
    let head = livedesk_eventstore::EventStore::head(&app.store).await.expect("head");
    app.projections
        .wait_for_all(head, std::time::Duration::from_secs(10))
        .await
        .expect("projected");

    let mut tab = Tab::new(&app);
    let (status, shown) = tab
        .call(reqwest::Method::GET, &format!("/invitations/{token}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (shown["email"].clone(), shown["siteName"].clone()),
        (Value::Null, json!("Bakery"))
    );
    let (status, body) = tab
        .call(
            reqwest::Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token, "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        "name and email needed"
    );
    let accept = json!({ "token": token, "password": PASSWORD, "name": "Bea", "email": "bea@bakery.example" });
    let (status, session) = tab
        .call(reqwest::Method::POST, "/invitations/accept", Some(accept))
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["site"]["id"], created.site_id.to_string());
    assert_eq!(session["role"], "ADMIN");

    // Bea, admin now, invites by the CLI as an operator would.
    let issued =
        livedesk::people::invite_agent(&pool, &config, created.site_id, "cal@bakery.example", None, Role::Agent)
            .await
            .expect("agents invite");
    assert!(issued.sets_password);
    let token = issued.url.rsplit_once("?token=").expect("token").1.to_owned();
    let mut cal = Tab::new(&app);
    let (status, session) = cal
        .call(
            reqwest::Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token, "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["agent"]["displayName"], "cal");
    let (_, me) = cal.graphql(ME, json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "AGENT");

    let unknown =
        livedesk::people::invite_agent(&pool, &config, uuid::Uuid::now_v7(), "x@y.example", None, Role::Agent)
            .await
            .expect_err("no such site");
    assert!(unknown.to_string().contains("no site"), "{unknown}");
}

#[sqlx::test(migrations = false)]
async fn the_first_run_sets_up_a_site_and_its_admin_with_the_token_from_the_log(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut tab = Tab::new(&app);
    let (status, needed) = tab.call(reqwest::Method::GET, "/setup", None).await;
    assert_eq!((status, needed["needed"].clone()), (StatusCode::OK, json!(true)));
    let token = app
        .graphql
        .setup_token()
        .await
        .expect("read")
        .expect("a token while no site exists");
    let setup = |token: &str| {
        json!({ "setupToken": token, "siteName": "Bakery", "name": "Bea", "email": "bea@bakery.example",
                "password": PASSWORD })
    };

    let before = event_count(&app).await;
    let (status, body) = tab.call(reqwest::Method::POST, "/setup", Some(setup("guess"))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(event_count(&app).await, before);

    let (status, session) = tab.call(reqwest::Method::POST, "/setup", Some(setup(&token))).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["role"], "ADMIN");
    let (_, me) = tab.graphql("{ me { role site { name } } }", json!({})).await;
    assert_eq!(me["data"]["me"]["site"]["name"], "Bakery", "{me}");

    let (_, needed) = tab.call(reqwest::Method::GET, "/setup", None).await;
    assert_eq!(needed["needed"], false);
    assert_eq!(app.graphql.setup_token().await.expect("read"), None);
    let (status, _) = Tab::new(&app)
        .call(reqwest::Method::POST, "/setup", Some(setup(&token)))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "once only");
    assert_eq!(
        Tab::new(&app).sign_in("bea@bakery.example", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[sqlx::test(migrations = false)]
async fn the_root_leads_to_the_console_served_with_caching_and_a_strict_policy(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("livedesk-console-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(dir.join("assets")).expect("dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><script type=module src=/console/assets/app-1.js></script>",
    )
    .expect("index");
    std::fs::write(dir.join("assets/app-1.js"), "console.log('plain')").expect("js");
    std::fs::write(dir.join("assets/app-1.js.br"), "brotli bytes").expect("br");
    let console = ConsoleArgs {
        dir: dir.clone(),
        ..ConsoleArgs::default()
    };
    let app = spawn_app_with_console(pool, WsConfig::default(), widget_args(), console).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_brotli()
        .no_gzip()
        .build()
        .expect("client");

    let root = plain.get(&app.address).send().await.expect("root");
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/console/");

    for path in ["/console/", "/console/inbox/unread", "/console/conversations/123"] {
        let page = plain.get(format!("{}{path}", app.address)).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.headers()["cache-control"], "no-cache");
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_owned();
        assert!(
            policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
        assert!(
            page.text().await.expect("html").contains("app-1.js"),
            "{path}: the app's page"
        );
    }

    let asset = format!("{}/console/assets/app-1.js", app.address);
    let compressed = plain
        .get(&asset)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("asset");
    assert_eq!(compressed.headers()["content-encoding"], "br");
    assert_eq!(
        compressed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        compressed.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/javascript")
    );
    assert_eq!(compressed.text().await.expect("body"), "brotli bytes");
    let identity = plain.get(&asset).send().await.expect("asset");
    assert!(identity.headers().get("content-encoding").is_none());
    assert_eq!(identity.text().await.expect("body"), "console.log('plain')");
    let missing = plain
        .get(format!("{}/console/assets/gone.js", app.address))
        .send()
        .await
        .expect("asset");
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "a missing asset is not the app's page"
    );

    let demo = plain.get(format!("{}/demo", app.address)).send().await.expect("demo");
    assert_eq!(demo.status(), StatusCode::OK, "/demo stays the demo shop");
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test(migrations = false)]
async fn an_unbuilt_console_says_how_to_build_it(pool: PgPool) {
    let console = ConsoleArgs {
        dir: std::env::temp_dir().join("livedesk-no-console-here"),
        ..ConsoleArgs::default()
    };
    let app = spawn_app_with_console(pool, WsConfig::default(), widget_args(), console).await;
    let page = app
        .http
        .get(format!("{}/console/", app.address))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.expect("html").contains("npm run build"));
}

#[sqlx::test(migrations = false)]
async fn admins_change_roles_and_a_removed_agent_s_session_ends(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ada = site.agent_with_password("Ada", Role::Admin, PASSWORD).await;
    let ana = site.agent_with_password("Ana", Role::Agent, PASSWORD).await;
    let mut tab = Tab::new(&app);
    assert_eq!(tab.sign_in(&email("Ana"), PASSWORD).await.0, StatusCode::OK);
    let set = "mutation($s: ID!, $a: ID!, $r: Role) { setAgentRole(siteId: $s, agentId: $a, role: $r) }";
    let vars =
        |agent: uuid::Uuid, role: Value| json!({ "s": site.site.to_string(), "a": agent.to_string(), "r": role });

    let before = event_count(&app).await;
    let (_, refused) = tab.graphql(set, vars(ada.id, json!("AGENT"))).await;
    assert_eq!(code(&refused), "FORBIDDEN", "agents may not: {refused}");
    let (_, own) = crate::fixtures::post(&app, Some(&ada.token), set, vars(ada.id, json!("AGENT"))).await;
    assert_eq!(code(&own), "BAD_USER_INPUT", "nobody changes their own role: {own}");
    let (_, unknown) =
        crate::fixtures::post(&app, Some(&ada.token), set, vars(uuid::Uuid::now_v7(), json!("AGENT"))).await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    assert_eq!(event_count(&app).await, before, "refusals append nothing");

    data(&app, &ada.token, set, vars(ana.id, json!("SUPERVISOR"))).await;
    assert_eq!(tab.graphql(ME, json!({})).await.1["data"]["me"]["role"], "SUPERVISOR");
    data(&app, &ada.token, set, vars(ana.id, Value::Null)).await;
    let (_, ended) = tab.graphql(ME, json!({})).await;
    assert_eq!(code(&ended), "UNAUTHENTICATED", "removed from the site: {ended}");
    let (status, body) = Tab::new(&app).sign_in(&email("Ana"), PASSWORD).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{body}"
    );
}
