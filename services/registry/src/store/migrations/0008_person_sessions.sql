-- 0008_person_sessions: one session per person (BKS 59(5)).
-- oauth_clients.session_jti: the `jti` of the newest access token issued to a personal
-- client. The registry's auth hook refuses a person's token whose jti is not this one
-- (SPL_SESSION_SUPERSEDED; oauth/person-sessions.ts). NULL (no token issued since this
-- migration): the person's tokens from before are refused, so existing sessions end at the
-- upgrade; they would have expired within SPL_TOKEN_LIFETIME_SECONDS (5 minutes by default).
-- Other kinds of client never set it.

ALTER TABLE oauth_clients ADD COLUMN session_jti text;
