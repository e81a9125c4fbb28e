INSERT INTO auth.users VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com');
INSERT INTO public.profiles VALUES ('00000000-0000-0000-0000-000000000001', 'bio ünïcödé 日本語');
BEGIN;
INSERT INTO app.customers (name, email, mood, balance, ratio, tags, prefs, avatar, created, wait)
SELECT 'customer ' || g || CASE WHEN g % 7 = 0 THEN ' 梯子 🚀' ELSE '' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'User' || g || '@Example.com' END,
       (ARRAY['sad', 'ok', 'happy', '😀']::mood[])[1 + g % 4],
       CASE WHEN g % 3 = 0 THEN NULL ELSE (g * 1234.5678901234)::numeric(30, 10) END,
       CASE WHEN g % 11 = 0 THEN 'NaN'::float8 WHEN g % 13 = 0 THEN '-0'::float8 ELSE g / 3.0 END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE ARRAY['a' || g, NULL, 'quote"s', 'com,ma'] END,
       jsonb_build_object('n', g, 'nested', jsonb_build_object('list', jsonb_build_array(1, 'two', NULL)), 'ü', true),
       CASE WHEN g % 6 = 0 THEN NULL ELSE decode(md5(g::text) || '00ff5c0a', 'hex') END,
       timestamptz '2024-03-01 12:00:00+09' + g * interval '37 minutes',
       make_interval(days => g % 40, secs => g / 7.0)
FROM generate_series(1, 300) AS g;
INSERT INTO app.orders (customer_id, total, placed, items, grid)
SELECT 1 + g % 300, round(g * 3.14159, 4), timestamptz '2024-06-01 00:00:00Z' + g * interval '1 hour',
       jsonb_build_array(jsonb_build_object('sku', 'x' || g, 'qty', g % 5)),
       ARRAY[[g, g + 1], [g + 2, NULL]]
FROM generate_series(1, 500) AS g;
UPDATE app.customers SET best_order = id + 10 WHERE id % 2 = 0;
COMMIT;
INSERT INTO app.events SELECT timestamptz '2024-11-30 00:00:00Z' + g * interval '1 hour', g,
       CASE WHEN g % 2 = 0 THEN 'click' ELSE NULL END, jsonb_build_object('g', g) FROM generate_series(1, 1000) AS g;
INSERT INTO app.log_nopk SELECT 'same line', 1, timestamp '2024-01-01' FROM generate_series(1, 3);
INSERT INTO app.log_nopk SELECT 'line ' || g, g, NULL FROM generate_series(1, 200) AS g;
INSERT INTO public.big SELECT g, repeat('x', 200 + g % 50), decode(repeat(md5(g::text), 8), 'hex')
FROM generate_series(1, 20000) AS g;
REFRESH MATERIALIZED VIEW app.order_totals;
ANALYZE;
