-- The schema distributed by user, as Citus would: every table of the package
-- made PARTITION BY HASH of its distribution column, from the schema the real
-- migrations built (not a second copy of it). PostgreSQL's hash partitions
-- impose Citus's key rules: every primary key and unique constraint holds the
-- partition key, and a query reaches one partition only if it names it.
-- Test-only (tests/conftest.py with TEST_SCHEMA=hash-partitioned, and
-- tests/test_scale_out.py); run on a freshly migrated, empty database.

-- name: create_partitioning_function#
-- Create pg_temp.partition_by_hash(tables, keys, partitions) for this session.
CREATE FUNCTION pg_temp.partition_by_hash(tables text[], keys text[], partitions integer)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    saved record;
    statements text[] := '{}';
    later text[] := '{}';
    statement text;
    position integer;
    table_name text;
BEGIN
    -- Views over the tables: dropped, made again at the end with their comments.
    FOR saved IN
        SELECT
            pg_class.oid,
            pg_class.relname,
            pg_get_viewdef(pg_class.oid) AS definition,
            obj_description(pg_class.oid, 'pg_class') AS comment
        FROM pg_class
        INNER JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
        WHERE pg_namespace.nspname = 'public'
            AND pg_class.relkind = 'v'
    LOOP
        later := later || format('CREATE VIEW %I AS %s', saved.relname, saved.definition);
        IF saved.comment IS NOT NULL THEN
            later := later || format('COMMENT ON VIEW %I IS %L', saved.relname, saved.comment);
        END IF;
        later := later || ARRAY(
            SELECT format(
                'COMMENT ON COLUMN %I.%I IS %L', saved.relname, attname,
                col_description(saved.oid, attnum)
            )
            FROM pg_attribute
            WHERE attrelid = saved.oid
                AND attnum > 0
                AND col_description(saved.oid, attnum) IS NOT NULL
        );
        EXECUTE format('DROP VIEW %I', saved.relname);
    END LOOP;

    -- Foreign keys from or to the tables: dropped, added again at the end.
    FOR saved IN
        SELECT DISTINCT
            pg_constraint.conrelid::regclass::text AS owner,
            pg_constraint.conname,
            pg_get_constraintdef(pg_constraint.oid) AS definition
        FROM pg_constraint
        WHERE pg_constraint.contype = 'f'
            AND (
                pg_constraint.conrelid::regclass::text = ANY(tables)
                OR pg_constraint.confrelid::regclass::text = ANY(tables)
            )
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', saved.owner, saved.conname);
        later := later || format(
            'ALTER TABLE %s ADD CONSTRAINT %I %s', saved.owner, saved.conname, saved.definition
        );
    END LOOP;

    FOR position IN 1 .. array_length(tables, 1) LOOP
        table_name := tables[position];
        statements := '{}';
        -- Triggers, keys, indexes and comments of the table, by definition.
        statements := statements || ARRAY(
            SELECT pg_get_triggerdef(pg_trigger.oid)
            FROM pg_trigger
            WHERE pg_trigger.tgrelid = table_name::regclass
                AND NOT pg_trigger.tgisinternal
        );
        statements := statements || ARRAY(
            SELECT format(
                'ALTER TABLE %I ADD CONSTRAINT %I %s', table_name, pg_constraint.conname,
                pg_get_constraintdef(pg_constraint.oid)
            )
            FROM pg_constraint
            WHERE pg_constraint.conrelid = table_name::regclass
                AND pg_constraint.contype IN ('p', 'u')
        );
        statements := statements || ARRAY(
            SELECT pg_get_indexdef(pg_index.indexrelid)
            FROM pg_index
            WHERE pg_index.indrelid = table_name::regclass
                AND NOT EXISTS (
                    SELECT 1
                    FROM pg_constraint
                    WHERE pg_constraint.conindid = pg_index.indexrelid
                )
        );
        statements := statements || ARRAY(
            SELECT format(
                'COMMENT ON INDEX %I IS %L', pg_class.relname,
                obj_description(pg_class.oid, 'pg_class')
            )
            FROM pg_index
            INNER JOIN pg_class ON pg_class.oid = pg_index.indexrelid
            WHERE pg_index.indrelid = table_name::regclass
                AND obj_description(pg_class.oid, 'pg_class') IS NOT NULL
        );
        statements := statements || format(
            'COMMENT ON TABLE %I IS %L', table_name,
            obj_description(table_name::regclass, 'pg_class')
        );

        EXECUTE format(
            'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS'
            ' INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED INCLUDING IDENTITY)'
            ' PARTITION BY HASH (%I)',
            table_name || '__hashed', table_name, keys[position]
        );
        EXECUTE format('DROP TABLE %I', table_name);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', table_name || '__hashed', table_name);
        FOR remainder IN 0 .. partitions - 1 LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                table_name || '_p' || remainder, table_name, partitions, remainder
            );
        END LOOP;
        FOREACH statement IN ARRAY statements LOOP
            EXECUTE statement;
        END LOOP;
    END LOOP;

    FOREACH statement IN ARRAY later LOOP
        EXECUTE statement;
    END LOOP;
END;
$$;

-- name: partition_by_hash(tables, keys, partitions)!
-- Make every table of tables PARTITION BY HASH of its key, in partitions partitions.
SELECT pg_temp.partition_by_hash(:tables, :keys, :partitions);

-- name: list_partitioned_tables()
-- The partitioned tables of the schema, with their partition key and partition count.
SELECT
    pg_class.relname AS table_name,
    pg_get_partkeydef(pg_class.oid) AS partition_key,
    (
        SELECT count(*)
        FROM pg_inherits
        WHERE pg_inherits.inhparent = pg_class.oid
    ) AS partitions
FROM pg_class
INNER JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
WHERE pg_namespace.nspname = 'public'
    AND pg_class.relkind = 'p'
ORDER BY pg_class.relname;
