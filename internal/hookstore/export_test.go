package hookstore

import "context"

// rows counts the rows of the shield's tables (tests only).
func (s *Store) rows(ctx context.Context) (charges, cooldowns, rejections int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM hook_shield_charges), (SELECT count(*) FROM hook_shield_cooldowns),
		(SELECT count(*) FROM hook_shield_rejections)`).Scan(&charges, &cooldowns, &rejections)
	return charges, cooldowns, rejections, err
}
