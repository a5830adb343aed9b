// The few icons the app draws, inline so they cost no request.
import type { SVGProps } from "react";

const base = { width: 28, height: 28, viewBox: "0 0 24 24", "aria-hidden": true, focusable: false } as const;

export const HeartIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} {...props}>
    <path
      fill="currentColor"
      d="M12 21s-7.5-4.6-9.6-9.2C.9 8.4 3 4.5 6.7 4.5c2.1 0 3.5 1.1 4.3 2.4h2c.8-1.3 2.2-2.4 4.3-2.4 3.7 0 5.8 3.9 4.3 7.3C19.5 16.4 12 21 12 21z"
    />
  </svg>
);

export const CommentIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} {...props}>
    <path
      fill="currentColor"
      d="M12 3C6.5 3 2 6.8 2 11.5c0 2.5 1.3 4.8 3.4 6.3L4.5 21l4-1.9c1.1.3 2.3.4 3.5.4 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"
    />
  </svg>
);

export const VolumeIcon = ({ muted, ...props }: SVGProps<SVGSVGElement> & { muted: boolean }) => (
  <svg {...base} {...props}>
    <path fill="currentColor" d="M3 9v6h4l5 4V5L7 9H3z" />
    {muted ? (
      <path stroke="currentColor" strokeWidth="2" strokeLinecap="round" d="M16 9l5 6M21 9l-5 6" />
    ) : (
      <path stroke="currentColor" strokeWidth="2" strokeLinecap="round" fill="none" d="M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12" />
    )}
  </svg>
);

export const PlayIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} width={64} height={64} {...props}>
    <path fill="currentColor" d="M8 5v14l11-7z" />
  </svg>
);

export const HomeIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} width={24} height={24} {...props}>
    <path fill="currentColor" d="M12 3l9 8h-3v9h-5v-6h-2v6H6v-9H3z" />
  </svg>
);

export const PlusIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} width={24} height={24} {...props}>
    <path stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" d="M12 5v14M5 12h14" />
  </svg>
);

export const ChatIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} width={24} height={24} {...props}>
    <path fill="currentColor" d="M4 4h16v12H7l-3 3zm4 5h8v2H8z" />
  </svg>
);

export const PersonIcon = (props: SVGProps<SVGSVGElement>) => (
  <svg {...base} width={24} height={24} {...props}>
    <path fill="currentColor" d="M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2c-4.4 0-8 2.2-8 5v2h16v-2c0-2.8-3.6-5-8-5z" />
  </svg>
);
