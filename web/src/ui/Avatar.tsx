// A user's picture, or their initial on a colour derived from their id when they have none.

const HUES = 12;

export function Avatar({ user, size = 40 }: { user: { id: string; name: string; avatar?: string | null }; size?: number }) {
  const style = { width: size, height: size, fontSize: size * 0.45 };
  if (user.avatar) return <img className="avatar" src={user.avatar} alt="" width={size} height={size} style={style} loading="lazy" />;
  const hue = (Number(user.id.slice(-4)) % HUES) * (360 / HUES);
  return (
    <span className="avatar avatar-initial" aria-hidden="true" style={{ ...style, background: `hsl(${hue} 55% 45%)` }}>
      {Array.from(user.name)[0]?.toUpperCase() ?? "?"}
    </span>
  );
}
